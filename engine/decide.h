// What happens to a step: decided by the same functions for `plan` (from what it can see now,
// read-only) and for the run (from what it sees when the step's turn comes). The plan renders
// the decisions; the executor acts on them.
#pragma once

#include <optional>
#include <vector>

#include "engine/model.h"
#include "engine/run_state.h"

namespace runbook {

// What one guard of `guards` (or `done_when`) means for its step.
enum class GuardDecision {
  kHolds,         // it holds
  kNotEvaluated,  // offline, or the step's `if` is false: nothing known
  kWait,          // it does not hold and has `wait`: the run waits for it (plan only: the run
                  // decides once the wait is over)
  kAgainLater,    // it does not hold, but steps that run before this one may establish it: the
                  // run evaluates it again when the step's turn comes (plan only)
  kBlock,         // it does not hold, on_fail: abort
  kSkip,          // it does not hold, on_fail: skip
  kWarn,          // it does not hold, on_fail: warn: the step goes on
};

// What is known of one guard.
struct GuardFact {
  bool evaluated = false;
  bool held = false;
  OnFail on_fail = OnFail::kAbort;
  bool may_wait = false;          // it has `wait` and its wait is not over
  bool others_run_first = false;  // steps that run before its step may change it (plan)
};

GuardDecision DecideGuard(const GuardFact& guard);

// What happens to the step itself, from its `if`, its done_when and its guards.
enum class StepDecision {
  kRun,
  kSkipCondition,  // its `if` is false
  kDone,           // every done_when guard holds: already done
  kBlocked,        // a guard with on_fail: abort does not hold (first: it wins over a skip)
  kSkipGuard,      // a guard with on_fail: skip does not hold
};

struct StepFacts {
  std::optional<bool> condition;     // its `if`; unset: none, or not known yet
  std::vector<GuardFact> done_when;  // done_when guards (empty: none, or not evaluated yet)
  std::vector<GuardFact> guards;     // `guards` (empty: none, or not evaluated yet)
};

StepDecision DecideStep(const StepFacts& facts);

// What a resume does with a step, from its state in the run it continues.
enum class ResumeDecision {
  kRun,              // it never ran, or did not finish well: it runs
  kFinishedEarlier,  // it succeeded, was done or skipped: not run again
  kRunAgain,         // it was running when the engine stopped and is idempotent: runs again
  kNeedsAnswer,      // it was running when the engine stopped and is not idempotent: the
                     // operator must confirm running it again
};

// `earlier`: the step's state in the run being resumed; null when it has none.
ResumeDecision DecideResume(const StepState* earlier, bool idempotent);

}  // namespace runbook
