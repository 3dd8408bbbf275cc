// The closed set of step and guard kinds, dispatched with std::visit to their implementations in
// steps/. Adding a kind to model.h makes the compiler point here.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/step_env.h"
#include "steps/step_outcome.h"

namespace runbook {

// Runs the step's action once (no guards, no retries: the executor does those).
StepOutcome RunStepKind(const Step& step, StepEnv& env);

// What the step would do, for plans and dry runs: rendered commands, queries, copies.
std::vector<std::string> DescribeStepKind(const Step& step, StepEnv& env);

// What the step would act on if it ran now, observed read-only, for plans that are not offline:
// the queries a cancel_queries step would cancel. Empty for kinds that observe nothing.
std::vector<std::string> ObserveStepKind(const Step& step, StepEnv& env);

// Evaluates one guard now. A guard that cannot be evaluated does not hold.
GuardResult EvaluateGuard(const Guard& guard, StepEnv& env);

}  // namespace runbook
