// `run`: a shell command (string) or an argv (list), on the step's host, as its user.
#pragma once

#include "engine/model.h"
#include "engine/step_env.h"
#include "steps/step_outcome.h"

namespace runbook {

StepOutcome RunRunStep(const RunStep& step, StepEnv& env);

}  // namespace runbook
