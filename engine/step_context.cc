#include "engine/step_context.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>

#include "engine/remote_hosts.h"
#include "engine/run_state.h"
#include "engine/secrets.h"
#include "engine/shell_quote.h"
#include "engine/step_kind.h"

namespace runbook {

void RunData::Put(const std::string& step, const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  data_[step][key] = value;
}

std::optional<std::string> RunData::Get(const std::string& step, const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto s = data_.find(step);
  if (s == data_.end()) return std::nullopt;
  auto k = s->second.find(key);
  if (k == s->second.end()) return std::nullopt;
  return k->second;
}

StepContext::StepContext(const Step& step, RunServices* services)
    : step_(step), services_(services) {
  scope_ = services_->scope->Scope(&outcomes_);
  if (!services_->log_dir.empty()) {
    const std::string path = services_->log_dir + "/" + step_.id + ".log";
    // O_CLOEXEC: children must not inherit the log. O_NOFOLLOW: never write through a symlink.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) log_ = ::fdopen(fd, "a");
  }
  StartClock();
}

StepContext::~StepContext() {
  if (log_) std::fclose(log_);
}

void StepContext::StartClock() {
  deadline_ = std::chrono::steady_clock::now() + StepTimeout(step_, services_->scope->runbook());
}

bool StepContext::DeadlinePassed() const {
  return std::chrono::steady_clock::now() >= deadline_;
}

Status StepContext::SyncStart() {
  if (!start_sync_pending_) return Status::Ok();
  start_sync_pending_ = false;
  Status st = services_->journal->Sync();
  if (!st.ok()) return Status::Error("journal write failed: " + st.message());
  return st;
}

Status StepContext::FinishStartSync() {
  return SyncStart();
}

Duration StepContext::Remaining() const {
  auto left = std::chrono::duration_cast<Duration>(deadline_ - std::chrono::steady_clock::now());
  return left.count() > 0 ? left : Duration(1);
}

// Each log line starts with its time (UTC, to the millisecond), so the morning after a log says
// when a step printed what, and lines of several attempts or steps can be put side by side.
void StepContext::WriteLog(std::string_view marker, std::string_view text) {
  if (!log_) return;
  const std::string ts = FormatTimestamp(std::chrono::system_clock::now());
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fprintf(log_, "%s %.*s%.*s\n", ts.c_str(), static_cast<int>(marker.size()), marker.data(),
               static_cast<int>(text.size()), text.data());
  std::fflush(log_);
}

void StepContext::LogNote(std::string_view note) {
  const std::string masked = Mask(note, services_->redact);
  std::string_view rest = masked;
  while (true) {
    const size_t nl = rest.find('\n');
    WriteLog("== ", rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
}

void StepContext::Line(Stream stream, std::string_view line) {
  const std::string masked = Mask(line, services_->redact);
  WriteLog("", masked);
  services_->reporter->StepLine(step_.id, stream, masked);
}

Result<std::string> StepContext::Render(const Text& text) {
  auto r = RenderText(text, scope_);
  if (!r.ok()) return Result<std::string>::Error(r.message());
  return r->value;
}

Result<std::string> StepContext::RenderShown(const Text& text) {
  auto r = RenderText(text, scope_);
  if (!r.ok()) return Result<std::string>::Error(r.message());
  return std::move(r.value().display);
}

Result<SqlText> StepContext::RenderSql(const Text& text) {
  return runbook::RenderSql(text, scope_);
}

Result<DbTarget> ResolveDatabase(const RunServices& services, const TemplateScope& scope,
                                 const NameRef& ref) {
  const Runbook& rb = services.scope->runbook();
  const runbook::Database* db = rb.FindDatabase(ref.name);
  if (!db) return Result<DbTarget>::Error("unknown database '" + ref.name + "'");
  auto render = [&](const Text& text) -> Result<std::string> {
    auto r = RenderText(text, scope);
    if (!r.ok()) return Result<std::string>::Error(r.message());
    return r->value;
  };
  DbTarget target;
  target.name = db->name;
  auto conninfo = ResolveConninfo(db->conninfo, scope);
  if (!conninfo.ok()) {
    return Result<DbTarget>::Error("database '" + ref.name + "': " + conninfo.message());
  }
  target.conninfo = std::move(conninfo->keywords);
  if (db->password) {
    auto password = render(*db->password);
    if (!password.ok()) return Result<DbTarget>::Error(password.message());
    target.password = *password;
  }
  if (db->tunnel) {
    target.tunnel_host = db->tunnel->name;
    if (!services.remote) {
      return Result<DbTarget>::Error("database '" + ref.name + "' needs an ssh tunnel to host '" +
                                     db->tunnel->name + "', which is not available here");
    }
    const Host* host = rb.FindHost(db->tunnel->name);
    if (!host) return Result<DbTarget>::Error("unknown tunnel host '" + db->tunnel->name + "'");
    auto local = services.remote->Tunnel(*host, target.conninfo);
    if (!local.ok()) return Result<DbTarget>::Error(local.message());
    target.conninfo = *local;
  }
  return target;
}

Result<DbTarget> StepContext::Database(const NameRef& ref) {
  return ResolveDatabase(*services_, scope_, ref);
}

ProcessResult StepContext::RunOn(const std::string& host, const ProcessSpec& spec,
                                 OutputSink* out) {
  ProcessSpec s = spec;
  s.redact.insert(s.redact.end(), services_->redact.begin(), services_->redact.end());
  s.unset_env.insert(s.unset_env.end(), services_->secret_env.begin(), services_->secret_env.end());
  if (s.timeout.count() == 0 || s.timeout > Remaining()) s.timeout = Remaining();
  s.kill_grace = services_->kill_grace;
  const Host* h = services_->scope->runbook().FindHost(host);
  if (h && !h->local) {
    if (!services_->remote) {
      ProcessResult r;
      r.error = "host '" + host + "' is reached over ssh, which is not available here";
      return r;
    }
    if (start_sync_pending_) s.before_input = [this] { return SyncStart(); };
    if (services_->journal) {
      s.on_remote_group = [this, host](int pgid, const std::string& boot_id) {
        (void)services_->journal->Write(StepProcessRecord(step_.id, pgid, boot_id, host));
      };
    }
    return services_->remote->Run(*h, s, out, services_->cancel);
  }
  if (Status st = SyncStart(); !st.ok()) {
    ProcessResult r;
    r.error = st.message();
    return r;
  }
  if (services_->journal) {
    // Written, not synced: it must survive the engine being killed, and after a power loss no
    // process of the group is left to find.
    s.on_group = [this](int pgid) {
      (void)services_->journal->Write(StepProcessRecord(step_.id, pgid, services_->boot_id));
    };
  }
  return services_->processes->Run(s, out, services_->cancel);
}

bool StepContext::RunsHere(const std::optional<NameRef>& host) const {
  const Runbook& rb = services_->scope->runbook();
  const Host* h = rb.FindHost(host ? host->name : StepHost(step_, rb));
  return h != nullptr && h->local && !step_.user;
}

ProcessResult StepContext::RunCommand(const Command& command, const std::optional<NameRef>& host,
                                      OutputSink* out, const CommandInputs& inputs) {
  const Runbook& rb = services_->scope->runbook();
  ProcessResult failed;
  auto resolved = RenderCommand(command, scope_);
  if (!resolved.ok()) {
    failed.error = resolved.message();
    return failed;
  }
  auto env = RenderEnv(step_, scope_, services_->scope->params());
  if (!env.ok()) {
    failed.error = env.message();
    return failed;
  }
  std::string cwd, user;
  if (step_.cwd) {
    auto r = Render(*step_.cwd);
    if (!r.ok()) {
      failed.error = r.message();
      return failed;
    }
    cwd = *r;
  }
  if (step_.user) {
    auto r = Render(*step_.user);
    if (!r.ok()) {
      failed.error = r.message();
      return failed;
    }
    user = *r;
  }
  const std::string& host_name = host ? host->name : StepHost(step_, rb);
  const Host* h = rb.FindHost(host_name);

  ProcessSpec spec;
  std::vector<std::string> argv =
      resolved->shell ? std::vector<std::string>{"/bin/sh", "-c", resolved->words[0]}
                      : resolved->words;
  if (resolved->shell && !inputs.args.empty()) argv.push_back("sh");  // $0; the inputs are $1...
  argv.insert(argv.end(), inputs.args.begin(), inputs.args.end());
  for (const auto& [name, value] : inputs.env) env.value().push_back({name, value, value, false});
  if (h && !h->local) {
    // The remote side applies cwd, env (secrets on stdin) and user; see engine/remote_hosts.h.
    spec.argv = argv;
    spec.cwd = cwd;
    for (const ResolvedEnv& e : *env) spec.env.emplace_back(e.name, e.value);
    if (!user.empty()) spec.argv.insert(spec.argv.begin(), {"sudo", "-n", "-u", user, "--"});
    return RunOn(host_name, spec, out);
  }
  if (user.empty()) {
    spec.argv = std::move(argv);
    spec.cwd = cwd;
    for (const ResolvedEnv& e : *env) spec.env.emplace_back(e.name, e.value);
  } else {
    // sudo resets the environment and argv is visible to every user: the environment (secrets
    // included) and the working directory travel as a script on stdin, read by `sh -s`.
    std::string script;
    for (const ResolvedEnv& e : *env)
      script += "export " + e.name + "=" + ShellQuote(e.value) + "\n";
    if (!cwd.empty()) script += "cd " + ShellQuote(cwd) + " || exit 1\n";
    script += "exec";
    for (const std::string& a : argv) script += " " + ShellQuote(a);
    script += " </dev/null\n";
    spec.argv = {"sudo", "-n", "-u", user, "--", "/bin/sh", "-s"};
    spec.stdin_data = script;
  }
  return RunOn(host_name, spec, out);
}

Result<bool> StepContext::AskOperator(const std::string& text) {
  if (services_->yes) {
    // Nobody was asked: the journal says so, never "confirmed by the operator".
    if (!services_->journal) return true;
    Status st = services_->journal->Append(ConfirmationRecord(step_.id, true, 0, AnsweredBy::kYes));
    if (!st.ok()) return Result<bool>::Error("cannot write the journal: " + st.message());
    return true;
  }
  if (!services_->prompter || !services_->prompter->interactive()) {
    return Result<bool>::Error("step '" + step_.id +
                               "' needs the operator's confirmation and there is no terminal: "
                               "run on a terminal, or pass --yes");
  }
  // How long the run waited for the answer is part of its story (the report's timeline).
  const auto asked = std::chrono::steady_clock::now();
  const bool confirmed = services_->prompter->Confirm(text);
  if (services_->journal) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - asked);
    Status st = services_->journal->Append(
        ConfirmationRecord(step_.id, confirmed, waited.count(), AnsweredBy::kTerminal));
    if (!st.ok()) return Result<bool>::Error("cannot write the journal: " + st.message());
  }
  return confirmed;
}

bool StepContext::AnswersWithYes() const {
  return services_->yes;
}

std::vector<std::string> StepContext::MatchedColumns() const {
  std::vector<std::string> columns;
  for (const Step& s : services_->scope->runbook().steps) {
    for (const std::string& column : s.kind->ColumnsMatchedFrom(step_.id)) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        columns.push_back(column);
      }
    }
  }
  return columns;
}

Status StepContext::SaveData(const std::string& key, const std::string& value) {
  services_->data->Put(step_.id, key, value);
  if (!services_->journal) return Status::Ok();
  return services_->journal->Append(StepDataRecord(step_.id, key, value));
}

std::optional<std::string> StepContext::LoadData(const std::string& step_id,
                                                 const std::string& key) {
  return services_->data->Get(step_id, key);
}

}  // namespace runbook
