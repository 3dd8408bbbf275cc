// How one attempt of a step's action ended.
#pragma once

#include <string>

namespace runbook {

struct StepOutcome {
  bool ok = false;
  std::string message;
};

}  // namespace runbook
