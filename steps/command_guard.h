// `command` guard: holds when the command exits 0 (on the guard's host, default the step's).
#pragma once

#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

GuardResult EvalCommandGuard(const CommandGuard& guard, StepEnv& env);

}  // namespace runbook
