// What the earlier runs of a runbook lead one to expect of the next: each step's duration (the
// average of its successful attempts in the latest 10 runs) and the downtime window's length (the
// median of its latest 10 measurements). Plans show them before a run (engine/plan.h), reports
// beside what a run took (cli/run_report.h). The earlier runs come from the state directory or
// the team's store, newest first, and are read only as far as needed.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/downtime.h"

namespace runbook {

// The journal records of the earlier run `index` (0: the newest); nullopt past the oldest. A run
// whose journal cannot be read has no records.
using EarlierRuns = std::function<std::optional<std::vector<nlohmann::json>>(size_t index)>;

// The runs of `runbook` under the state directory `state_dir` that started before `before_ms`.
EarlierRuns EarlierRunsIn(const std::string& state_dir, const std::string& runbook,
                          int64_t before_ms = std::numeric_limits<int64_t>::max());

class PgStore;
// The runs of `runbook` in the team's state store (engine/pg_store.h) that started before
// `before` (a FormatTimestamp time; "" for every run). An error reading the list is an error;
// a run whose records cannot be read has none.
Result<EarlierRuns> EarlierRunsInStore(std::shared_ptr<PgStore> store, const std::string& runbook,
                                       const std::string& before = "");

// Step id -> the average of its successful attempts in the latest 10 runs, in seconds.
std::map<std::string, double> ExpectStepSeconds(const EarlierRuns& runs);

// The median of the latest 10 measurements of the window from `from` to `to`.
ExpectedDowntime ExpectWindow(const EarlierRuns& runs, const std::string& from,
                              const std::string& to);

}  // namespace runbook
