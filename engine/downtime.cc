#include "engine/downtime.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/units.h"

namespace runbook {

namespace {

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
