#include "engine/decide.h"

namespace runbook {

GuardDecision DecideGuard(const GuardFact& guard) {
  if (!guard.evaluated) return GuardDecision::kNotEvaluated;
  if (guard.held) return GuardDecision::kHolds;
  if (guard.may_wait) return GuardDecision::kWait;
  if (guard.on_fail == OnFail::kWarn) return GuardDecision::kWarn;
  if (guard.others_run_first) return GuardDecision::kAgainLater;
  return guard.on_fail == OnFail::kSkip ? GuardDecision::kSkip : GuardDecision::kBlock;
}

StepDecision DecideStep(const StepFacts& facts) {
  if (facts.condition == false) return StepDecision::kSkipCondition;
  if (!facts.done_when.empty()) {
    bool done = true;
    for (const GuardFact& g : facts.done_when) done = done && g.evaluated && g.held;
    if (done) return StepDecision::kDone;
  }
  bool skip = false;
  for (const GuardFact& g : facts.guards) {
    switch (DecideGuard(g)) {
      case GuardDecision::kBlock:
        return StepDecision::kBlocked;
      case GuardDecision::kSkip:
        skip = true;
        break;
      case GuardDecision::kHolds:
      case GuardDecision::kNotEvaluated:
      case GuardDecision::kWait:
      case GuardDecision::kAgainLater:
      case GuardDecision::kWarn:
        break;
    }
  }
  return skip ? StepDecision::kSkipGuard : StepDecision::kRun;
}

ResumeDecision DecideResume(const StepState* earlier, bool idempotent) {
  if (earlier == nullptr) return ResumeDecision::kRun;
  switch (earlier->status) {
    case StepStatus::kSucceeded:
    case StepStatus::kDone:
    case StepStatus::kSkipped:
      return ResumeDecision::kFinishedEarlier;
    case StepStatus::kRunning:
      return idempotent ? ResumeDecision::kRunAgain : ResumeDecision::kNeedsAnswer;
    case StepStatus::kPending:
    case StepStatus::kFailed:
    case StepStatus::kInterrupted:
    case StepStatus::kBlocked:
      return ResumeDecision::kRun;
  }
  return ResumeDecision::kRun;
}

}  // namespace runbook
