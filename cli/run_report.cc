#include "cli/run_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/report_html.h"
#include "engine/executor.h"
#include "engine/expectations.h"
#include "engine/journal.h"
#include "engine/loader.h"
#include "engine/pg_store.h"
#include "engine/printable.h"
#include "engine/secrets.h"
#include "engine/state_dir.h"
#include "steps/registry.h"

namespace runbook {

namespace {

// A log longer than this keeps its end, where a failure is: `runbook logs` has the whole.
constexpr size_t kMaxLogBytes = 512 * 1024;

std::string LeftOut(size_t bytes) {
  return "[the first " + std::to_string(bytes) + " bytes are left out: `runbook logs` has them]\n";
}

std::string KeepEnd(std::string text) {
  if (text.size() <= kMaxLogBytes) return text;
  const size_t cut = text.size() - kMaxLogBytes;
  return LeftOut(cut) + text.substr(cut);
}

// A step log of the state directory: a regular file of ours, never followed through a symlink
// (as `runbook logs` reads it); "" when there is none.
std::string ReadLog(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return "";
  struct stat st {};
  std::string text;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    const off_t start = st.st_size > static_cast<off_t>(kMaxLogBytes)
                            ? st.st_size - static_cast<off_t>(kMaxLogBytes)
                            : 0;
    if (start > 0) text = LeftOut(static_cast<size_t>(start));
    char buf[65536];
    ssize_t n;
    off_t at = start;
    // Up to the size it had: a log still written to is read as far as it was.
    while (at < st.st_size && (n = ::pread(fd, buf, sizeof buf, at)) > 0) {
      text.append(buf, static_cast<size_t>(std::min<off_t>(n, st.st_size - at)));
      at += n;
    }
  }
  ::close(fd);
  return text;
}

// What a report is made of, wherever the run is kept.
struct RunSource {
  std::vector<nlohmann::json> records;
  std::map<std::string, std::string> logs;  // step id -> its log
  EarlierRuns earlier;                      // the runs of the same runbook before this one
};

Result<RunSource> FromStateDir(const std::string& state, const std::string& run_id) {
  using R = Result<RunSource>;
  auto run = FindRun(state, run_id);
  if (!run) return R::Error("no run " + run_id + " in " + state);
  // The run's directory, runs/, the runbook's directory and the state directory.
  if (Status st = CheckStateDir(run->dir, 3); !st.ok()) return R::Error(st.message());
  auto contents = ReadJournal(run->journal);
  if (!contents.ok()) return R::Error("run " + run_id + ": " + contents.message());
  RunSource src;
  src.records = std::move(contents->records);
  const RunState rs = ReplayJournal(src.records);
  for (const auto& [id, step] : rs.steps) {
    if (!IsStepId(id)) continue;  // a journal's ids are data too: never a path
    std::string log = ReadLog(StepLogPath(run->dir, id));
    if (!log.empty()) src.logs[id] = std::move(log);
  }
  src.earlier = EarlierRunsIn(state, run->name, run->started_ms);
  return src;
}

Result<RunSource> FromStore(const std::string& url, const std::string& run_id) {
  using R = Result<RunSource>;
  auto opened = PgStore::Open(url, /*create=*/false);
  if (!opened.ok()) return R::Error(opened.message());
  std::shared_ptr<PgStore> store = std::move(opened).value();
  auto run = store->FindRun(run_id);
  if (!run.ok()) return R::Error(run.message());
  if (!*run) return R::Error("no run " + run_id + " in the state store");
  auto records = store->Records(run_id);
  if (!records.ok()) return R::Error(records.message());
  auto logged = store->LogSteps(run_id);
  if (!logged.ok()) return R::Error(logged.message());
  RunSource src;
  src.records = std::move(records).value();
  for (const std::string& id : *logged) {
    auto text = store->Log(run_id, id);
    if (!text.ok()) return R::Error(text.message());
    src.logs[id] = KeepEnd(std::move(text).value());
  }
  auto earlier = EarlierRunsInStore(store, (*run)->runbook, (*run)->started);
  if (!earlier.ok()) return R::Error(earlier.message());
  src.earlier = std::move(earlier).value();
  return src;
}

// The report's file is written whole or not at all: first to a temporary file beside it.
bool WriteReportFile(const std::string& path, const std::string& html) {
  if (path == "-") {
    std::fwrite(html.data(), 1, html.size(), stdout);
    return std::fflush(stdout) == 0;
  }
  const std::string tmp = path + ".tmp";
  // Reports tell about production systems, as journals and logs do: only the operator reads
  // them until they choose to share them.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  bool ok = fd >= 0;
  for (size_t at = 0; ok && at < html.size();) {
    const ssize_t n = ::write(fd, html.data() + at, html.size() - at);
    if (n <= 0)
      ok = false;
    else
      at += static_cast<size_t>(n);
  }
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (ok && std::rename(tmp.c_str(), path.c_str()) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "runbook: cannot write the report to %s\n", Printable(path).c_str());
    if (fd >= 0) ::unlink(tmp.c_str());
  }
  return ok;
}

bool Report(const RunSource& src, const std::string& path) {
  ReportInput in;
  in.state = ReplayJournal(src.records);
  in.timeline = BuildTimeline(src.records);
  in.logs = src.logs;
  in.expected_seconds = ExpectStepSeconds(src.earlier);
  if (in.state.downtime) {
    in.expected_downtime =
        ExpectWindow(src.earlier, in.state.downtime->from, in.state.downtime->to);
  }
  // Journals and logs hold no secret value (the engine masks them as it writes). Should a
  // command have printed one in a way it did not recognise, the values the runbook's secrets
  // have here are masked once more; when the runbook no longer loads, the page is what the
  // journal and logs hold.
  Diagnostics diags;
  LoadOptions probe;
  probe.kinds = &BuiltinKinds();
  probe.require_params = RequireParams::kNo;
  probe.inventories = in.state.inventories;
  if (auto loaded = LoadRunbook(in.state.path, probe, &diags)) {
    for (const Secret& s : loaded->runbook.secrets) in.secret_names.push_back(s.name);
    if (auto secrets = LoadSecrets(loaded->runbook); secrets.ok()) {
      in.redact = RedactionList(*secrets);
    }
  }
  return WriteReportFile(path, RunReportHtml(in));
}

}  // namespace

bool WriteRunReport(const std::string& state_dir, const std::string& run_id,
                    const std::string& path) {
  auto src = FromStateDir(state_dir, run_id);
  if (!src.ok()) {
    std::fprintf(stderr, "runbook: %s\n", src.message().c_str());
    return false;
  }
  return Report(*src, path);
}

int CmdReport(const std::string& run_id, const std::string& out_path,
              const std::string& store_url) {
  // An id is never a path.
  if (!IsRunId(run_id)) {
    std::fprintf(stderr, "runbook: '%s' is not a run id (YYYYMMDDTHHMMSSZ-xxxx)\n",
                 Printable(run_id).c_str());
    return kExitRefused;
  }
  auto src = store_url.empty() ? FromStateDir(StateDir(), run_id) : FromStore(store_url, run_id);
  if (!src.ok()) {
    std::fprintf(stderr, "runbook: %s\n", src.message().c_str());
    return kExitRefused;
  }
  const std::string path = out_path.empty() ? run_id + ".html" : out_path;
  if (!Report(*src, path)) return kExitRefused;
  if (path != "-") std::printf("report of run %s written to %s\n", run_id.c_str(), path.c_str());
  return kExitOk;
}

}  // namespace runbook
