// The maintenance window of a runbook (`downtime: {from, to}`): the service it maintains is down
// from the start of step `from` to the end of step `to`. Which steps lie inside the window, how
// long it lasted in a run (engine/run_state.h's WindowState, from the journal) and how long it is
// expected to last (the median of the earlier runs that measured it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/model.h"
#include "engine/run_state.h"

namespace runbook {

// The steps inside the window, in plan order: with one job, exactly those that run between the
// start of `from` and the end of `to` (from `from` to `to` in the topological order; when `to` is
// a finally step, every step from `from` on, then the finally steps up to `to`). Empty when the
// runbook has no window.
std::vector<const Step*> WindowSteps(const Runbook& rb, const Graph& graph);

struct ExpectedDowntime {
  std::optional<double> seconds;  // the median; unset when no earlier run measured the window
  int runs = 0;                   // how many measurements the median is of
};

// The window of a run in words: "23.3s (stop-web 15:02:01 .. start-web 15:02:24 UTC)",
// "open since 15:02:01 UTC: stop-web started, start-web has not succeeded", or
// "none: stop-web did not start".
std::string DowntimeText(const WindowState& window);

}  // namespace runbook
