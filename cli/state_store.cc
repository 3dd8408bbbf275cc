#include "cli/state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/executor.h"
#include "engine/fd.h"
#include "engine/journal.h"
#include "engine/pg_store.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"

namespace runbook {

int CmdStateInit(const std::string& url, bool print_sql) {
  if (print_sql) {
    std::fputs(StoreSchemaSql().c_str(), stdout);
    return kExitOk;
  }
  if (url.empty()) {
    std::fprintf(stderr, "runbook: state init needs --state URL or RUNBOOK_STATE_URL\n");
    return kExitInvalid;
  }
  auto store = PgStore::Open(url, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  std::printf("state store ready (schema runbook, version %d)\n", kStoreSchemaVersion);
  return kExitOk;
}

int CmdStateImport(const std::string& url, const std::string& dir) {
  if (url.empty()) {
    std::fprintf(stderr, "runbook: state import needs --state URL or RUNBOOK_STATE_URL\n");
    return kExitInvalid;
  }
  auto store = PgStore::Open(url, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  int imported = 0, present = 0, failed = 0;
  for (const RunInfo& run : ListRuns(dir, "")) {
    auto contents = ReadJournal(run.journal);
    if (!contents.ok()) {
      std::fprintf(stderr, "runbook: run %s not imported: %s\n", run.run_id.c_str(),
                   contents.message().c_str());
      ++failed;
      continue;
    }
    std::vector<std::pair<std::string, std::string>> logs;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(run.dir + "/logs", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= 4 || name.substr(name.size() - 4) != ".log") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      logs.emplace_back(name.substr(0, name.size() - 4), text.str());
    }
    auto r = (*store)->ImportRun(contents->records, logs);
    if (!r.ok()) {
      std::fprintf(stderr, "runbook: run %s not imported: %s\n", run.run_id.c_str(),
                   r.message().c_str());
      ++failed;
    } else if (*r) {
      ++imported;
    } else {
      ++present;
    }
  }
  std::printf("imported %d run%s; %d already in the store; %d not imported\n", imported,
              imported == 1 ? "" : "s", present, failed);
  return failed == 0 ? kExitOk : kExitRefused;
}

namespace {

// Writes a new file (never over an existing one, never through a symlink) and makes it durable.
Status WriteNewFile(const std::string& path, std::string_view bytes) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.open()) return Status::Error(path + ": " + ErrnoText(errno));
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(path + ": " + ErrnoText(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return Status::Error(path + ": " + ErrnoText(errno));
  return Status::Ok();
}

}  // namespace

Result<RunInfo> FetchRun(PgStore& store, const std::string& state, const std::string& run_id) {
  using R = Result<RunInfo>;
  if (FindRun(state, run_id)) return R::Error("run " + run_id + " is already in " + state);
  auto records = store.Records(run_id);
  if (!records.ok()) return R::Error(records.message());
  const RunState rs = ReplayJournal(*records);
  if (rs.run_id != run_id || !IsRunId(run_id) || !IsValidRunbookName(rs.runbook)) {
    return R::Error("the state store has no readable run " + run_id);
  }
  auto steps = store.LogSteps(run_id);
  if (!steps.ok()) return R::Error(steps.message());
  const std::string dir = RunDir(state, rs.runbook, run_id);
  if (Status st = MakeDirs(dir + "/logs"); !st.ok()) return R::Error(st.message());
  // The logs first, the journal last: a run directory is a run once its journal is there.
  for (const std::string& step : *steps) {
    if (!IsStepId(step)) continue;  // the store's ids are data too
    auto text = store.Log(run_id, step);
    if (!text.ok()) return R::Error(text.message());
    if (Status st = WriteNewFile(StepLogPath(dir, step), *text); !st.ok()) {
      return R::Error(st.message());
    }
  }
  std::string journal;
  for (const nlohmann::json& record : *records) journal += EncodeJournalLine(record);
  if (Status st = WriteNewFile(JournalPath(dir), journal); !st.ok()) return R::Error(st.message());
  std::optional<RunInfo> run = FindRun(state, run_id);
  if (!run) return R::Error("run " + run_id + " was copied but cannot be found in " + state);
  return *run;
}

}  // namespace runbook
