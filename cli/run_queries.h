// Commands that read the state directory: status, history, logs; and the guard observations a
// `run --plan` shows side by side.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"

namespace runbook {

struct ResumableRun {
  RunInfo info;
  RunState state;
  std::string last_step;  // "id (status)" of the step last started or finished; "-" before any
};

// The runs `resume` could continue (of `runbook`, or of every runbook when empty): the newest run
// of each runbook, when it did not finish successfully; oldest first. An error, naming the file,
// when the newest journal of a runbook cannot be read: it may hide an unfinished run.
Result<std::vector<ResumableRun>> UnfinishedRuns(const std::string& state,
                                                 const std::string& runbook);

// With `store_url` (StoreUrl: --state or RUNBOOK_STATE_URL) they read the team's state store
// (engine/pg_store.h) instead of the state directory.
// The runbook name a FILE argument names; nullopt (errors printed) when it does not load.
std::optional<std::string> RunbookNameOf(const std::string& file);

// With `follow`, status and logs then follow the run until it ends (cli/follow.h) and exit with
// its exit code.
int CmdStatus(const std::string& target, bool json, const std::string& store_url, bool follow);
int CmdHistory(const std::string& file, bool json, const std::string& store_url);
int CmdLogs(const std::string& run_id, const std::string& step, const std::string& store_url,
            bool follow);

// Prints each guard's observation in the saved plan and now.
void PrintGuardObservations(const nlohmann::json& saved, const nlohmann::json& now);

}  // namespace runbook
