// The dependency graph as text for other tools: Graphviz DOT and Mermaid (`runbook graph`).
//
// Edges point the way the run goes: from a step to the steps that need it. Each node is labelled
// with the step id and its kind, then, one line each where the step has them, its `if:` as
// written and the kinds of its guards, done_when and verify checks (with a guard's wait and an
// on_fail other than abort), so the picture shows what may hold a step back or skip it.
// `finally` steps are drawn dashed, in a group of their own, after the steps that nothing else
// needs (they always run after all steps, in file order).
#pragma once

#include <string>

#include "engine/graph.h"
#include "engine/model.h"

namespace runbook {

// REQUIRES: `graph` was built from `rb`.
std::string GraphToDot(const Runbook& rb, const Graph& graph);
std::string GraphToMermaid(const Runbook& rb, const Graph& graph);

}  // namespace runbook
