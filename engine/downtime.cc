#include "engine/downtime.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/journal.h"
#include "engine/state_dir.h"
#include "engine/units.h"

namespace runbook {

namespace {

constexpr size_t kMeasurements = 10;

// "15:02:01" of "2026-12-07T15:02:01.123Z".
std::string ClockTime(const std::string& ts) {
  return ts.size() >= 19 ? ts.substr(11, 8) : ts;
}

}  // namespace

std::vector<const Step*> WindowSteps(const Runbook& rb, const Graph& graph) {
  std::vector<const Step*> out;
  if (!rb.downtime) return out;
  const std::string& from = rb.downtime->from.name;
  const std::string& to = rb.downtime->to.name;
  bool inside = false;
  for (int i : graph.order) {
    const Step& s = rb.steps[i];
    inside = inside || s.id == from;
    if (inside) out.push_back(&s);
    if (inside && s.id == to) return out;
  }
  for (const Step& s : rb.finally) {
    inside = inside || s.id == from;
    if (inside) out.push_back(&s);
    if (inside && s.id == to) return out;
  }
  return out;
}

ExpectedDowntime ExpectDowntime(const std::string& state_dir, const Runbook& rb) {
  ExpectedDowntime out;
  if (!rb.downtime) return out;
  std::vector<double> seconds;
  std::vector<RunInfo> runs = ListRuns(state_dir, rb.name);  // oldest first
  for (auto run = runs.rbegin(); run != runs.rend() && seconds.size() < kMeasurements; ++run) {
    auto contents = ReadJournal(run->journal);
    if (!contents.ok()) continue;
    const RunState state = ReplayJournal(contents->records);
    const std::optional<WindowState>& w = state.downtime;
    if (!w || !w->duration_ms || w->from != rb.downtime->from.name ||
        w->to != rb.downtime->to.name) {
      continue;
    }
    seconds.push_back(*w->duration_ms / 1000.0);
  }
  if (seconds.empty()) return out;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  out.seconds = n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  out.runs = static_cast<int>(n);
  return out;
}

std::string DowntimeText(const WindowState& w) {
  if (w.duration_ms) {
    return FormatElapsed(*w.duration_ms / 1000.0) + " (" + w.from + " " + ClockTime(w.opened_at) +
           " .. " + w.to + " " + ClockTime(w.closed_at) + " UTC)";
  }
  if (!w.opened_at.empty()) {
    return "open since " + ClockTime(w.opened_at) + " UTC: " + w.from + " started, " + w.to +
           " has not succeeded";
  }
  return "none: " + w.from + " did not start";
}

}  // namespace runbook
