// `manual`: text shown to the operator; the run waits until they confirm it was done.
#pragma once

#include "engine/model.h"
#include "engine/step_env.h"
#include "steps/step_outcome.h"

namespace runbook {

StepOutcome RunManualStep(const ManualStep& step, StepEnv& env);

}  // namespace runbook
