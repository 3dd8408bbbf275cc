// What running one step reports to the executor.
#pragma once

#include <string>

namespace runbook {

struct StepOutcome {
  bool ok = false;
  // One line for the operator: "copied 3703 rows (1.2 MB) in 0.4 s", or why the step failed
  // (possibly several lines, e.g. an SQL error with its caret line).
  std::string message;
};

}  // namespace runbook
