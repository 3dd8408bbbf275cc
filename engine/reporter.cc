#include "engine/reporter.h"

namespace runbook {

const char* OutcomeName(StepOutcomeKind kind) {
  switch (kind) {
    case StepOutcomeKind::kSuccess: return "success";
    case StepOutcomeKind::kFailure: return "failure";
    case StepOutcomeKind::kSkipped: return "skipped";
    case StepOutcomeKind::kDone: return "done";
    case StepOutcomeKind::kBlocked: return "blocked";
    case StepOutcomeKind::kInterrupted: return "interrupted";
    case StepOutcomeKind::kTimedOut: return "timed_out";
    case StepOutcomeKind::kNotRun: return "not_run";
    case StepOutcomeKind::kAlreadyDone: return "already_done";
  }
  return "unknown";
}

const char* GuardPhaseName(GuardPhase phase) {
  switch (phase) {
    case GuardPhase::kGuards: return "guards";
    case GuardPhase::kDoneWhen: return "done_when";
    case GuardPhase::kVerify: return "verify";
  }
  return "unknown";
}

}  // namespace runbook
