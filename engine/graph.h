// The dependency graph of a runbook's steps: a stable topological order, parallel levels, cycles.
//
// Nodes are the entries of Runbook::steps (by index). `finally` steps are not nodes: they always
// run after the steps, in file order. A `needs` entry naming no entry of `steps` (unknown, or a
// finally step) gives no edge: ValidateRunbook reports it. With duplicate ids the first wins.
#pragma once

#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"

namespace runbook {

struct Graph {
  // Every step once, each after all it needs; among the steps whose needs are met, the one
  // written first comes first. Without `needs` this is the file order.
  std::vector<int> order;
  // Per step: 0 when it needs nothing, else 1 + the highest level of what it needs. Steps of one
  // level never depend on each other, so they may run in parallel.
  std::vector<int> level;
  // Per step: the steps it needs (in the order of its `needs`, repeats removed), and the steps
  // that need it (ascending).
  std::vector<std::vector<int>> deps;
  std::vector<std::vector<int>> dependents;

  int LevelCount() const;  // 1 + the highest level; 0 for no steps
};

// Builds the graph in O(V + E log V). On cycles returns an error whose message is the first
// cycle found, and reports every cycle to `diags` (when not null), once per strongly connected
// component, at the `needs` entry that starts it from its earliest step:
//   "dependency cycle: a -> b -> c -> a"   (read "a needs b, which needs c, which needs a")
//   "step 'a' needs itself"
Result<Graph> BuildGraph(const Runbook& rb, Diagnostics* diags = nullptr);

// The same, with each step's needs already looked up: needs[v] holds the indices of the steps
// that rb.steps[v].needs names, in order, repeats and the step itself included, names of no
// entry of `steps` left out (what ValidateRunbook has at hand).
Result<Graph> BuildGraph(const Runbook& rb, const std::vector<std::vector<int>>& needs,
                         Diagnostics* diags = nullptr);

}  // namespace runbook
