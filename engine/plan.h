// The preview of a run (`runbook plan`, `runbook run --dry-run`): what would run, in which order
// and parallel levels, each command as it would be run (secrets as ***), every guard evaluated
// live but read-only, the confirmations that will be asked, what a resume would skip, and the
// expected duration from earlier runs. Building a plan changes nothing anywhere: no journal is
// written, no step runs, database guards run in read-only transactions.
//
// A plan saved with `--out` is JSON (schemas/plan.schema.json) holding no secret value;
// `run --plan` compares it with a fresh plan and refuses on any difference (ComparePlans).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/loader.h"
#include "engine/process.h"

namespace runbook {

struct PlanOptions {
  std::string state_dir;
  bool offline = false;  // evaluate no guard, check no host
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
};

// The plan as JSON (the documented shape). Fails only when the runbook cannot be resolved
// (e.g. a secret is missing): the message says what.
Result<nlohmann::json> BuildPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                                 ProcessRunner* processes);

// True when some guard with on_fail: abort and no `wait` did not hold on a step that no other
// step would run before (none of the steps it needs, directly or not, would run): the run would
// be blocked (exit 3). A guard after steps that would run is shown as not holding now and
// "would be evaluated again after ..." instead: those steps may establish it (stop the sessions,
// make the backup, apply the migrations), as a `wait` may.
bool PlanBlocked(const nlohmann::json& plan);

// The differences between a saved plan and a fresh one that make `run --plan` refuse: the
// runbook file, params, the step list and each step's resolved definition. Empty when equal.
std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now);

// Hash of a file's content (for detecting an edited runbook); empty when unreadable.
std::string FileHash(const std::string& path);

}  // namespace runbook
