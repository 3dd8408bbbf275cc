// One run's story on a time axis, read from its journal: for each step, the stretch spent on its
// checks (guards and done_when, a guard's `wait` included), the operator's answer to its question,
// and each attempt with its outcome; the downtime window. What `runbook report` draws
// (cli/report_html.h). Pure: records in, timeline out.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_state.h"

namespace runbook {

struct TimelineSegment {
  enum class Kind {
    kChecks,        // from the step's turn to its first attempt (or its end when none ran)
    kConfirmation,  // waiting for the operator's answer
    kAttempt,       // one attempt: step_started to step_finished
  };
  Kind kind = Kind::kChecks;
  int64_t start_ms = 0, end_ms = 0;  // since the epoch
  int attempt = 0;                   // kAttempt
  // kAttempt: the step_finished outcome ("success", "failure", ...), "unknown" when the engine
  // died while it ran; kChecks: the outcome when no attempt followed ("done", "skipped",
  // "blocked"), else ""; kConfirmation: "confirmed" or "declined".
  std::string outcome;
};

struct TimelineStep {
  std::string id;
  bool in_finally = false;  // not among run_started's step_ids
  std::vector<TimelineSegment> segments;
  std::string outcome;  // of the last step_finished; "" when it never finished
  int attempts = 0;
  int64_t duration_ms = 0;               // summed over the step's turns (a resume gives it another)
  std::vector<GuardObservation> guards;  // every check journaled, in order
};

struct Timeline {
  int64_t start_ms = 0, end_ms = 0;  // the run_started record, the last record
  std::vector<TimelineStep> steps;   // run_started's step_ids, then others as first seen
  std::optional<int64_t> window_start_ms, window_end_ms;  // end unset while the window is open
};

Timeline BuildTimeline(const std::vector<nlohmann::json>& records);

}  // namespace runbook
