// A run as one self-contained HTML page (`runbook report`, `run --report`): readable without the
// tool and without a network, styles and script inline, the timeline as inline SVG. Every value
// from the run (ids, params, summaries, logs) is HTML-escaped, and masked with `redact` first.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/downtime.h"
#include "engine/run_state.h"
#include "engine/run_timeline.h"

namespace runbook {

struct ReportInput {
  RunState state;  // the journal replayed
  Timeline timeline;
  std::map<std::string, std::string> logs;         // step id -> its log (maybe cut)
  std::map<std::string, double> expected_seconds;  // step id -> from the runs before
  ExpectedDowntime expected_downtime;              // from the runs before
  std::vector<std::string> secret_names;           // the runbook's secrets (values never shown)
  std::vector<std::string> redact;                 // secret values to mask
};

std::string RunReportHtml(const ReportInput& input);

// `text` with &, <, >, " and ' as character references.
std::string HtmlEscape(std::string_view text);

}  // namespace runbook
