// A StepEnv for tests: templates rendered from a map, databases from a map, output and saved
// data recorded, processes run by a replaceable function (by default: really, locally).
//
// Rendering understands `${{ NAME }}` only (NAME looked up in `values`, e.g. "params.every");
// RenderSql turns each into $1, $2, ... like the real template engine, showing secrets (names in
// `secrets`) as *** in `display`.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/step_env.h"

namespace runbook {

class RecordingSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(stream, std::string(line));
  }
  std::vector<std::string> Lines(std::optional<Stream> only = std::nullopt) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [s, l] : lines_) {
      if (!only || s == *only) out.push_back(l);
    }
    return out;
  }
  std::string Text(std::optional<Stream> only = std::nullopt) const {
    std::string out;
    for (const auto& l : Lines(only)) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<Stream, std::string>> lines_;
};

// Runs spec.argv locally (PATH search, cwd, env added), stdout and stderr lines to `out`.
// Minimal: no timeout, no stdin; stderr is collected after stdout ends (via a temp file).
inline ProcessResult RunLocallyForTest(const ProcessSpec& spec, OutputSink* out) {
  ProcessResult result;
  int pipefd[2];
  if (pipe(pipefd) != 0) return result;
  char errpath[] = "/tmp/fake-step-env-err-XXXXXX";
  const int errfd = mkstemp(errpath);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errfd, 2);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  std::vector<std::string> args = spec.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  auto emit = [out](Stream s, const std::string& text) {
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      if (out) out->Line(s, std::string_view(text).substr(start, nl - start));
      start = nl + 1;
    }
  };
  if (rc != 0) {
    close(pipefd[0]);
    close(errfd);
    unlink(errpath);
    result.error = "cannot spawn " + spec.argv[0];
    return result;
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) text.append(buf, n);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  emit(Stream::kStdout, text);
  std::string err;
  lseek(errfd, 0, SEEK_SET);
  while ((n = read(errfd, buf, sizeof buf)) > 0) err.append(buf, n);
  close(errfd);
  unlink(errpath);
  emit(Stream::kStderr, err);
  result.started = true;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

class FakeStepEnv : public StepEnv {
 public:
  std::string step_id_value = "step";
  std::string run_id_value = "run-1";
  DryRun dry = DryRun::kNo;
  std::map<std::string, std::string> values;  // "params.x" -> value
  std::set<std::string> secrets;              // names in `values` shown as ***
  std::map<std::string, DbTarget> databases;
  std::map<std::pair<std::string, std::string>, std::string> data;  // (step, key) -> value
  std::vector<std::string> matched_columns;
  PgPool* pool = nullptr;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::atomic<bool> cancel_flag{false};
  RecordingSink out;
  std::function<ProcessResult(const std::string&, const ProcessSpec&, OutputSink*)> run_on =
      [](const std::string&, const ProcessSpec& spec, OutputSink* sink) {
        return RunLocallyForTest(spec, sink);
      };
  std::vector<std::pair<std::string, ProcessSpec>> run_calls;

  const std::string& step_id() const override { return step_id_value; }
  const std::string& run_id() const override { return run_id_value; }
  DryRun dry_run() const override { return dry; }

  Result<std::string> Render(const Text& text) override {
    std::string out;
    Status s = Walk(
        text.raw,
        [&](const std::string& name, const std::string& value) {
          (void)name;
          out += value;
        },
        [&](std::string_view lit) { out += lit; });
    if (!s.ok()) return Result<std::string>::Error(s.message());
    return out;
  }

  Result<std::string> RenderShown(const Text& text) override {
    std::string out;
    Status s = Walk(
        text.raw,
        [&](const std::string& name, const std::string& value) {
          out += secrets.count(name) ? "***" : value;
        },
        [&](std::string_view lit) { out += lit; });
    if (!s.ok()) return Result<std::string>::Error(s.message());
    return out;
  }

  Result<SqlText> RenderSql(const Text& text) override {
    SqlText sql;
    Status s = Walk(
        text.raw,
        [&](const std::string& name, const std::string& value) {
          sql.params.push_back(value);
          sql.query += "$" + std::to_string(sql.params.size());
          sql.display += secrets.count(name) ? "'***'" : "'" + value + "'";
        },
        [&](std::string_view lit) {
          sql.query += lit;
          sql.display += lit;
        });
    if (!s.ok()) return Result<SqlText>::Error(s.message());
    return sql;
  }

  Result<DbTarget> Database(const NameRef& db) override {
    auto it = databases.find(db.name);
    if (it == databases.end()) return Result<DbTarget>::Error("unknown database " + db.name);
    return it->second;
  }

  ProcessResult RunOn(const std::string& host, const ProcessSpec& spec, OutputSink* sink) override {
    run_calls.emplace_back(host, spec);
    return run_on(host, spec, sink);
  }

  // A command runs as /bin/sh -c (or its argv) on "local" through RunOn, words taken as written;
  // the inputs' env is recorded in the spec, its args follow the words ($1... of a script).
  using StepEnv::RunCommand;
  ProcessResult RunCommand(const Command& command, const std::optional<NameRef>& host,
                           OutputSink* sink, const CommandInputs& inputs) override {
    ProcessSpec spec;
    if (command.shell) {
      spec.argv = {"/bin/sh", "-c", command.words.at(0).raw};
      if (!inputs.args.empty()) spec.argv.push_back("sh");
    } else {
      for (const Text& w : command.words) spec.argv.push_back(w.raw);
    }
    spec.argv.insert(spec.argv.end(), inputs.args.begin(), inputs.args.end());
    spec.env = inputs.env;
    return RunOn(host ? host->name : "local", spec, sink);
  }
  bool RunsHere(const std::optional<NameRef>& host) const override {
    return !host || host->name == "local";
  }

  Result<bool> AskOperator(const std::string& text) override {
    questions.push_back(text);
    return answer;
  }
  std::vector<std::string> questions;
  bool answer = true;
  bool AnswersWithYes() const override { return yes; }
  bool yes = false;

  OutputSink& Out() override { return out; }
  const CancelToken& Cancel() const override { return token_; }
  std::optional<std::chrono::steady_clock::time_point> Deadline() const override {
    return deadline;
  }
  std::vector<std::string> MatchedColumns() const override { return matched_columns; }
  PgPool* ConnectionPool() override { return pool; }
  Status BeforeChanges() override {
    ++before_changes_calls;
    return before_changes();
  }
  std::function<Status()> before_changes = [] { return Status::Ok(); };
  int before_changes_calls = 0;

  Status SaveData(const std::string& key, const std::string& value) override {
    data[{step_id_value, key}] = value;
    return Status::Ok();
  }
  std::optional<std::string> LoadData(const std::string& step_id, const std::string& key) override {
    auto it = data.find({step_id, key});
    if (it == data.end()) return std::nullopt;
    return it->second;
  }

 private:
  template <class OnExpr, class OnLiteral>
  Status Walk(const std::string& raw, OnExpr on_expr, OnLiteral on_literal) {
    size_t i = 0;
    while (true) {
      const size_t open = raw.find("${{", i);
      if (open == std::string::npos) {
        on_literal(std::string_view(raw).substr(i));
        return Status::Ok();
      }
      const size_t close = raw.find("}}", open);
      if (close == std::string::npos) return Status::Error("unterminated ${{");
      on_literal(std::string_view(raw).substr(i, open - i));
      std::string name = raw.substr(open + 3, close - open - 3);
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      auto it = values.find(name);
      if (it == values.end()) return Status::Error("unknown value " + name);
      on_expr(name, it->second);
      i = close + 2;
    }
  }

  CancelToken token_{&cancel_flag};
};

inline Text T(std::string raw) {
  return Text{std::move(raw), {}};
}

}  // namespace runbook
