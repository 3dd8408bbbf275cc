// Commands that read the state directory: status, history, logs; and the guard observations a
// `run --plan` shows side by side.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/state_dir.h"

namespace runbook {

// The newest run (of `runbook`, or of any runbook when empty) that did not finish successfully.
std::optional<RunInfo> LatestUnfinishedRun(const std::string& state, const std::string& runbook);

int CmdStatus(const std::string& target, bool json);
int CmdHistory(const std::string& file, bool json);
int CmdLogs(const std::string& run_id, const std::string& step);

// Prints each guard's observation in the saved plan and now.
void PrintGuardObservations(const nlohmann::json& saved, const nlohmann::json& now);

}  // namespace runbook
