// A plan saved by `plan --out` and read back by `run --plan`. The file may be hand-edited,
// truncated or not a plan at all, so it is checked field by field before anything reads it
// (CheckSavedPlan); then it is compared with a fresh plan of the same runbook (ComparePlans).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/step_selection.h"

namespace runbook {

// Ok when every field `run --plan` reads has the type PlanToJson writes; else an error naming the
// first wrong field, e.g. "steps[2].id must be a string, not a number".
Status CheckSavedPlan(const nlohmann::json& saved);

// The steps a checked saved plan chose (--only, --from, --rerun); empty for a plan that chose
// none or was saved before plans recorded the choice.
StepSelection SavedSelection(const nlohmann::json& saved);

// The differences between a checked saved plan and a fresh one that make `run --plan` refuse: the
// runbook file, params, the steps chosen, the step list and each step's resolved definition.
// Empty when equal.
std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now);

}  // namespace runbook
