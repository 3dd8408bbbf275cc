// The human rendering of a plan (engine/plan.h builds it).
#pragma once

#include <string>

#include "engine/plan.h"

namespace runbook {

// The plan as text: the header, each step with its command, guards and what a resume would do,
// then the confirmations that will be asked and whether the run would start. `color`: ANSI
// colors.
std::string PlanToText(const Plan& plan, bool color);

}  // namespace runbook
