// `runbook prune --older-than 30d`: removes the state of finished runs started longer ago than
// the given duration, and never what a resume may still need.
#pragma once

#include <string>

#include "engine/model.h"

namespace runbook {

// A run is removed only when all of these hold: its journal reads and ends with run_finished;
// it is not the newest run of its runbook while that run did not succeed (the one `resume`
// would continue); it started before now - `older_than`. Each runbook's runs are pruned while
// holding its run lock, so no run of it starts or resumes meanwhile; a runbook whose lock is
// held is left alone and named. With `dry_run`, lists what would go and removes nothing.
int CmdPrune(Duration older_than, bool dry_run);

}  // namespace runbook
