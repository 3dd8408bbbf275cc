#include "engine/run_timeline.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/journal.h"

namespace runbook {

namespace {

using nlohmann::json;

std::string Str(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t Int(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// Attempts of one turn of a step share its start (a step_finished's ts minus its duration);
// a later turn (a resume) starts well after.
constexpr int64_t kSameTurnMs = 1000;

struct Building {
  TimelineStep step;
  std::optional<int64_t> turn_start;     // the current turn's start, once a step_finished gave it
  std::optional<int64_t> first_started;  // first step_started of the current turn
  std::optional<int64_t> open_attempt;   // step_started without step_finished yet
  int open_attempt_no = 0;
  int64_t turn_duration = 0;  // the current turn's duration so far
};

}  // namespace

Timeline BuildTimeline(const std::vector<json>& records) {
  Timeline t;
  std::map<std::string, Building> by_id;
  std::vector<std::string> ids;
  auto step = [&](const std::string& id) -> Building& {
    auto [it, added] = by_id.try_emplace(id);
    if (added) {
      ids.push_back(id);
      it->second.step.id = id;
    }
    return it->second;
  };
  std::vector<std::string> planned;
  std::string window_from;  // the downtime window's `from`, when the runbook has one
  for (const json& r : records) {
    if (!r.is_object()) continue;
    const std::optional<int64_t> ts = ParseTimestampMs(Str(r, "ts"));
    if (!ts) continue;
    if (t.start_ms == 0) t.start_ms = *ts;
    t.end_ms = std::max(t.end_ms, *ts);
    const std::string type = Str(r, "type");
    if (type == "run_started") {
      if (auto it = r.find("step_ids"); it != r.end() && it->is_array()) {
        for (const json& id : *it) {
          if (id.is_string()) planned.push_back(id.get<std::string>());
        }
      }
      for (const std::string& id : planned) step(id);
      if (auto it = r.find("downtime"); it != r.end() && it->is_object()) {
        window_from = Str(*it, "from");
      }
    } else if (type == "step_started") {
      const std::string id = Str(r, "step");
      Building& b = step(id);
      if (id == window_from && !t.window_start_ms) t.window_start_ms = *ts;
      // A start with no step_finished before a new turn: the engine died during the attempt.
      if (b.open_attempt) {
        b.step.segments.push_back(
            {TimelineSegment::Kind::kAttempt, *b.open_attempt, *ts, b.open_attempt_no, "unknown"});
        b.turn_start.reset();
        b.first_started.reset();
      }
      b.open_attempt = *ts;
      b.open_attempt_no = static_cast<int>(Int(r, "attempt"));
      if (!b.first_started) b.first_started = *ts;
      b.step.attempts = std::max(b.step.attempts, b.open_attempt_no);
    } else if (type == "step_finished") {
      Building& b = step(Str(r, "step"));
      const int64_t duration = Int(r, "duration_ms");
      const int64_t start = *ts - duration;
      const std::string outcome = Str(r, "outcome");
      const bool new_turn = !b.turn_start || start - *b.turn_start > kSameTurnMs;
      if (new_turn) {
        b.turn_start = start;
        const int64_t checks_end = b.first_started.value_or(*ts);
        b.step.segments.push_back(
            {TimelineSegment::Kind::kChecks, start, checks_end, 0, b.first_started ? "" : outcome});
        b.turn_duration = 0;
      }
      // Each attempt's duration counts from the turn's start: the turn took the last one.
      b.step.duration_ms += duration - b.turn_duration;
      b.turn_duration = duration;
      if (b.open_attempt) {
        b.step.segments.push_back({TimelineSegment::Kind::kAttempt, *b.open_attempt, *ts,
                                   static_cast<int>(Int(r, "attempt")), outcome});
        b.open_attempt.reset();
      }
      b.step.outcome = outcome;
      b.step.attempts = std::max(b.step.attempts, static_cast<int>(Int(r, "attempt")));
      b.first_started.reset();
    } else if (type == "confirmation") {
      Building& b = step(Str(r, "step"));
      b.step.segments.push_back({TimelineSegment::Kind::kConfirmation, *ts - Int(r, "waited_ms"),
                                 *ts, 0, r.value("confirmed", false) ? "confirmed" : "declined"});
    } else if (type == "guard") {
      Building& b = step(Str(r, "step"));
      std::vector<std::string> evidence;
      if (auto it = r.find("evidence"); it != r.end() && it->is_array()) {
        for (const json& e : *it) {
          if (e.is_string()) evidence.push_back(e.get<std::string>());
        }
      }
      b.step.guards.push_back({Str(r, "phase"), Str(r, "kind"), r.value("held", false),
                               Str(r, "summary"), std::move(evidence), Str(r, "ts")});
    } else if (type == "downtime") {
      t.window_start_ms = ParseTimestampMs(Str(r, "opened"));
      t.window_end_ms = ParseTimestampMs(Str(r, "closed"));
    }
  }
  // Attempts still open at the end: the engine died (or the run is live).
  for (auto& [id, b] : by_id) {
    if (b.open_attempt) {
      b.step.segments.push_back({TimelineSegment::Kind::kAttempt, *b.open_attempt, t.end_ms,
                                 b.open_attempt_no, "unknown"});
    }
  }
  for (const std::string& id : ids) {
    TimelineStep& s = by_id[id].step;
    s.in_finally = std::find(planned.begin(), planned.end(), id) == planned.end();
    // Segments in time order: a confirmation is journaled after the checks that preceded it.
    std::stable_sort(
        s.segments.begin(), s.segments.end(),
        [](const TimelineSegment& a, const TimelineSegment& b) { return a.start_ms < b.start_ms; });
    t.steps.push_back(std::move(s));
  }
  return t;
}

}  // namespace runbook
