#include "steps/manual_step.h"

namespace runbook {

StepOutcome RunManualStep(const ManualStep& step, StepEnv& env) {
  auto text = env.Render(step.text);
  if (!text.ok()) return {false, text.message()};
  env.Out().Line(Stream::kInfo, "manual: " + *text);
  auto answer = env.AskOperator(*text + "\nDone?");
  if (!answer.ok()) return {false, answer.message()};
  if (!*answer) return {false, "the operator did not confirm the manual step"};
  return {true, "confirmed by the operator"};
}

}  // namespace runbook
