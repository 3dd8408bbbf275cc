// The human rendering of a plan (engine/plan.h builds it), written a step at a time.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/plan.h"

namespace runbook {

// Writes the plan as text: the header, each step with its command, guards and what a resume
// would do, then the confirmations that will be asked and whether the run would start.
// `color`: ANSI colors. `write` receives the text in consecutive pieces.
class PlanTextWriter : public PlanSink {
 public:
  PlanTextWriter(bool color, std::function<void(std::string_view)> write);
  void Begin(const PlanHeader& header) override;
  void Step(const PlannedStep& step) override;
  void End(bool blocked) override;

 private:
  bool color_;
  std::function<void(std::string_view)> write_;
  std::vector<int> level_sizes_;
  std::optional<double> expected_seconds_;
  int last_level_ = -1;
  std::vector<std::string> confirmations_;
  std::string out_;
};

}  // namespace runbook
