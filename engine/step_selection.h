// Which steps a run (or a resume) runs when the operator names them: `--only`, `--from` and
// `--rerun` (docs/format.md "Choosing steps"; the reasons in docs/DECISIONS.md, issue 15).
#pragma once

#include <string>
#include <vector>

#include "engine/diag.h"

namespace runbook {

struct Graph;
struct Runbook;

struct StepSelection {
  std::vector<std::string> only;   // --only: just these steps
  std::string from;                // --from: this step and every step after it in the plan's order
  std::vector<std::string> rerun;  // --rerun: run these again although they finished in this run
  bool empty() const { return only.empty() && from.empty() && rerun.empty(); }
  // "--only a,b --rerun c", as the operator would write it; "" when empty.
  std::string Describe() const;
};

// Splits "a,b,,c" into its non-empty ids.
std::vector<std::string> SplitStepIds(const std::string& list);

// Every id it names must be a step of `rb`: an unknown id is an error with the nearest step id
// suggested; a finally step is an error too (finally steps run after every run, their `needs`
// decide). --only and --from exclude each other.
Status CheckSelection(const Runbook& rb, const StepSelection& selection);

// Per entry of rb.steps: whether the selection lets it run. Without --only and --from: every step.
// --only: the steps named. --from X: X and the steps after it in `graph.order` (the order the
// plan shows), whether or not they depend on X; the steps before it are not run. --rerun's steps
// are selected too.
std::vector<bool> SelectedSteps(const Runbook& rb, const Graph& graph,
                                const StepSelection& selection);

// What the run says, before anything runs, of a chosen step `step` whose need `need` the
// selection leaves out and that has not succeeded in this run: the step runs anyway (its guards
// still apply). The plan says the same words.
std::string LeftOutNeedText(const std::string& step, const std::string& need);

}  // namespace runbook
