#include "cli/prune.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/lock.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"
#include "engine/units.h"

namespace runbook {

namespace {

struct PruneCounts {
  int removed = 0;
  int kept_recent = 0;
  int kept_unfinished = 0;
  int errors = 0;
};

// Whether `run` may go: read and finished, and (for the newest run of its runbook) succeeded.
// Returns the reason to keep it, or "" when it may go.
std::string KeepReason(const RunInfo& run, bool newest) {
  auto contents = ReadJournal(run.journal);
  if (!contents.ok()) return "its journal cannot be read";
  const RunState rs = ReplayJournal(contents->records);
  if (!rs.finished) return "unfinished";
  if (newest && Unfinished(rs)) return "the run `resume` would continue";
  return "";
}

void PruneRunbook(const std::string& state, const std::string& name,
                  const std::vector<RunInfo>& runs, int64_t cutoff_ms, bool dry_run,
                  PruneCounts* counts) {
  LockHolder me = ThisProcess();
  me.started = FormatTimestamp(std::chrono::system_clock::now());
  Result<LockAttempt> attempt = AcquireRunLock(LockPath(state, name), me);
  if (!attempt.ok()) {
    std::fprintf(stderr, "runbook: %s: %s; its runs are left alone\n", name.c_str(),
                 attempt.message().c_str());
    ++counts->errors;
    return;
  }
  if (const auto* busy = std::get_if<LockBusy>(&*attempt)) {
    std::printf("%s: a run holds its lock (%s); its runs are left alone\n", name.c_str(),
                busy->holder.Describe().c_str());
    return;
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunInfo& run = runs[i];
    if (run.started_ms >= cutoff_ms) {
      ++counts->kept_recent;
      continue;
    }
    const std::string keep = KeepReason(run, i + 1 == runs.size());
    if (!keep.empty()) {
      std::printf("kept    %s %s: %s\n", name.c_str(), run.run_id.c_str(), keep.c_str());
      ++counts->kept_unfinished;
      continue;
    }
    if (!dry_run) {
      std::error_code ec;
      std::filesystem::remove_all(run.dir, ec);
      if (ec) {
        std::fprintf(stderr, "runbook: cannot remove %s: %s\n", run.dir.c_str(),
                     ec.message().c_str());
        ++counts->errors;
        continue;
      }
    }
    std::printf("%s %s %s\n", dry_run ? "would remove" : "removed", name.c_str(),
                run.run_id.c_str());
    ++counts->removed;
  }
}

}  // namespace

int CmdPrune(Duration older_than, bool dry_run) {
  const std::string state = StateDir();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t cutoff_ms = now_ms - older_than.count();
  std::map<std::string, std::vector<RunInfo>> by_runbook;  // each oldest first
  for (RunInfo& run : ListRuns(state, "")) by_runbook[run.name].push_back(std::move(run));
  PruneCounts counts;
  for (const auto& [name, runs] : by_runbook) {
    PruneRunbook(state, name, runs, cutoff_ms, dry_run, &counts);
  }
  std::printf("%s %d run%s started more than %s ago; kept %d newer and %d unfinished\n",
              dry_run ? "would remove" : "removed", counts.removed, counts.removed == 1 ? "" : "s",
              FormatDuration(older_than).c_str(), counts.kept_recent, counts.kept_unfinished);
  return counts.errors ? kExitRefused : kExitOk;
}

}  // namespace runbook
