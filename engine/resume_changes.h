// What changed in a runbook since the run being resumed last ran: the steps added, removed and
// renamed, and the steps whose `needs` changed. A resume reports them before anything runs, and
// journals the renames (run_resumed "renamed") so that later resumes and `status` follow them.
//
// A step is renamed when a step of the run that is gone from the runbook finished (succeeded or
// done) with the same definition hash as a step new to the run: it is the same finished step
// under a new id, and it is not run again.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/run_state.h"

namespace runbook {

// A step of the runbook as it is now.
struct StepShape {
  std::string id;
  std::string hash;  // its definition hash (ResolveDefinition(...).Hash()); "" when unknown
  std::vector<std::string> needs;
  bool in_finally = false;
};

struct ResumeChanges {
  std::vector<std::string> added;                            // in runbook order
  std::vector<std::string> removed;                          // in the run's order
  std::vector<std::pair<std::string, std::string>> renamed;  // (old id, new id)
  std::vector<std::string> needs_changed;                    // ids, in runbook order
  bool empty() const {
    return added.empty() && removed.empty() && renamed.empty() && needs_changed.empty();
  }
};

// Compares the run's steps (step_ids, finally_ids and step_needs as last journaled, and the
// journaled hashes) with `now`. Needs are compared only for steps whose needs the run journaled.
// Only steps (not finally steps) can be renamed: finally steps run again on every resume.
ResumeChanges CompareWithRun(const RunState& run, const std::vector<StepShape>& now);

// One line per change, for the operator: "renamed: two -> two-b (same definition, finished:
// not run again)", "added: x", "removed: y (failed in this run)", "needs of z: [a] -> [a, b]".
std::vector<std::string> DescribeChanges(const ResumeChanges& changes, const RunState& run,
                                         const std::vector<StepShape>& now);

}  // namespace runbook
