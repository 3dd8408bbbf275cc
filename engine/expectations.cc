#include "engine/expectations.h"

#include "engine/pg_store.h"

#include <algorithm>
#include <memory>

#include "engine/journal.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"

namespace runbook {

namespace {

constexpr size_t kRuns = 10;          // runs a step's average is taken over
constexpr size_t kMeasurements = 10;  // measurements of the window its median is taken of

}  // namespace

EarlierRuns EarlierRunsIn(const std::string& state_dir, const std::string& runbook,
                          int64_t before_ms) {
  auto runs = std::make_shared<std::vector<RunInfo>>();
  for (RunInfo& r : ListRuns(state_dir, runbook)) {  // oldest first
    if (r.started_ms < before_ms) runs->push_back(std::move(r));
  }
  std::reverse(runs->begin(), runs->end());
  return [runs](size_t index) -> std::optional<std::vector<nlohmann::json>> {
    if (index >= runs->size()) return std::nullopt;
    auto contents = ReadJournal((*runs)[index].journal);
    if (!contents.ok()) return std::vector<nlohmann::json>();
    return std::move(contents->records);
  };
}

Result<EarlierRuns> EarlierRunsInStore(std::shared_ptr<PgStore> store, const std::string& runbook,
                                       const std::string& before) {
  auto all = store->ListRuns(runbook);  // oldest first
  if (!all.ok()) return Result<EarlierRuns>::Error(all.message());
  auto ids = std::make_shared<std::vector<std::string>>();
  for (auto r = all->rbegin(); r != all->rend(); ++r) {
    if (before.empty() || r->started < before) ids->push_back(r->run_id);
  }
  return EarlierRuns([store, ids](size_t i) -> std::optional<std::vector<nlohmann::json>> {
    if (i >= ids->size()) return std::nullopt;
    auto records = store->Records((*ids)[i]);
    return records.ok() ? std::move(records).value() : std::vector<nlohmann::json>();
  });
}

std::map<std::string, double> ExpectStepSeconds(const EarlierRuns& runs) {
  std::map<std::string, std::pair<double, int>> sums;
  for (size_t i = 0; i < kRuns; ++i) {
    std::optional<std::vector<nlohmann::json>> records = runs(i);
    if (!records) break;
    for (const nlohmann::json& r : *records) {
      if (!r.is_object() || r.value("type", "") != "step_finished" ||
          r.value("outcome", "") != "success") {
        continue;
      }
      auto& [sum, count] = sums[r.value("step", "")];
      sum += r.value("duration_ms", 0) / 1000.0;
      ++count;
    }
  }
  std::map<std::string, double> out;
  for (const auto& [step, sc] : sums) out[step] = sc.first / sc.second;
  return out;
}

ExpectedDowntime ExpectWindow(const EarlierRuns& runs, const std::string& from,
                              const std::string& to) {
  ExpectedDowntime out;
  std::vector<double> seconds;
  for (size_t i = 0; seconds.size() < kMeasurements; ++i) {
    std::optional<std::vector<nlohmann::json>> records = runs(i);
    if (!records) break;
    const std::optional<WindowState> w = ReplayJournal(*records).downtime;
    if (!w || !w->duration_ms || w->from != from || w->to != to) continue;
    seconds.push_back(*w->duration_ms / 1000.0);
  }
  if (seconds.empty()) return out;
  std::sort(seconds.begin(), seconds.end());
  const size_t n = seconds.size();
  out.seconds = n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  out.runs = static_cast<int>(n);
  return out;
}

}  // namespace runbook
