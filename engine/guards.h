// Evaluating a step's guard lists: `guards` before it, `done_when` instead of it, `verify` after.
//
// Every guard of a list is evaluated and reported (not only the first that fails). Guards with
// `wait:` that do not hold are polled until they hold or their wait ends. Then `on_fail` decides:
// abort blocks the run, skip skips the step, warn notes it and goes on.
#pragma once

#include <string>
#include <vector>

#include "engine/decide.h"
#include "engine/model.h"
#include "engine/reporter.h"
#include "engine/step_env.h"

namespace runbook {

class Journal;

struct PhaseResult {
  std::vector<GuardResult> results;  // one per guard, in order
  std::vector<GuardFact> facts;      // the same, for DecideStep (engine/decide.h)
  // Why the guards that do not hold block or skip the step, naming them; "" when none does.
  std::string message;
};

struct GuardPolicy {
  bool allow_wait = true;  // false in dry runs: report what would be waited for instead
  Duration poll_interval = std::chrono::seconds(2);
  std::vector<std::string> redact;  // secret values masked in summaries and evidence
};

PhaseResult EvaluatePhase(const std::vector<Guard>& guards, GuardPhase phase, StepEnv& env,
                          Reporter& reporter, Journal* journal, const GuardPolicy& policy);

}  // namespace runbook
