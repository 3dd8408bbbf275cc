#include "steps/run_step.h"

#include "engine/process.h"

namespace runbook {

StepOutcome RunRunStep(const RunStep& step, StepEnv& env) {
  ProcessResult r = env.RunCommand(step.command, std::nullopt, &env.Out());
  return {r.ok(), r.Describe()};
}

}  // namespace runbook
