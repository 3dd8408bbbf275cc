// The human rendering of a plan (engine/plan.h builds it), as an operator reads it the evening
// before a maintenance window.
#pragma once

#include <string>

#include "engine/plan.h"

namespace runbook {

// Width and height of the screen the summary must fit: the smallest terminal anyone uses.
constexpr int kSummaryColumns = 80;
constexpr int kSummaryLines = 24;

// The plan as text, in this order:
//  - the summary (at most kSummaryColumns wide; on one kSummaryLines screen unless very many
//    guards fail): the verdict and its reasons, the steps and what would happen to them, what
//    asks for confirmation, the guards that do not hold now, the downtime window and the expected
//    duration;
//  - where it acts: ssh hosts and databases (resolved conninfo, password masked), and the params
//    as an aligned list;
//  - each step once, in plan order, said in words (its command as an indented block, SQL once,
//    what its guards observe now, "already done in run X, skipped"); steps inside the downtime
//    window are marked | in the margin; a line names the steps that may run together with --jobs;
//  - the verdict again, the last line on a terminal.
// `color`: ANSI colors.
std::string PlanToText(const Plan& plan, bool color);

}  // namespace runbook
