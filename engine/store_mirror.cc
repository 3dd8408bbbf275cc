#include "engine/store_mirror.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace runbook {

StoreMirror::StoreMirror(std::unique_ptr<PgStore> store, std::string run_id, std::string log_dir)
    : store_(std::move(store)), run_id_(std::move(run_id)), log_dir_(std::move(log_dir)) {}

Result<std::unique_ptr<StoreMirror>> StoreMirror::Open(
    const std::string& url, const std::string& run_id, const std::string& log_dir,
    const std::vector<nlohmann::json>& existing) {
  using R = Result<std::unique_ptr<StoreMirror>>;
  auto store = PgStore::Open(url, /*create=*/true);
  if (!store.ok()) return R::Error(store.message());
  std::unique_ptr<StoreMirror> m(new StoreMirror(std::move(store).value(), run_id, log_dir));
  if (existing.empty()) return m;
  auto last = m->store_->LastSeq(run_id);
  if (!last.ok()) return R::Error(last.message());
  for (const nlohmann::json& record : existing) m->Note(record);
  if (!*last) {
    // Started before it was kept in the store (or while the store was away at its start).
    std::vector<std::pair<std::string, std::string>> logs;
    auto imported = m->store_->ImportRun(existing, logs);
    if (!imported.ok()) return R::Error(imported.message());
    for (const auto& [step, outcome] : m->step_outcome_) {
      if (Status st = m->PutLog(step); !st.ok()) return R::Error(st.message());
    }
    return m;
  }
  // Records written while the store was away: copied now, in order.
  for (const nlohmann::json& record : existing) {
    if (record.value("seq", int64_t{0}) <= **last) continue;
    if (Status st = m->store_->AddRecord(run_id, record, m->StepsDone(), m->outcome_, m->ended_);
        !st.ok()) {
      return R::Error(st.message());
    }
    if (record.value("type", "") == "step_finished") {
      if (Status st = m->PutLog(record.value("step", "")); !st.ok()) return R::Error(st.message());
    }
  }
  return m;
}

void StoreMirror::Note(const nlohmann::json& record) {
  const std::string type = record.value("type", "");
  if (type == "step_finished") {
    step_outcome_[record.value("step", "")] = record.value("outcome", "");
  } else if (type == "run_finished") {
    outcome_ = record.value("outcome", "");
    ended_ = record.value("ts", "");
  } else if (type == "run_resumed") {
    outcome_.clear();
    ended_.clear();
  }
}

int StoreMirror::StepsDone() const {
  int done = 0;
  for (const auto& [step, outcome] : step_outcome_) {
    done += outcome == "success" || outcome == "done" || outcome == "skipped";
  }
  return done;
}

Status StoreMirror::PutLog(const std::string& step) {
  std::ifstream in(log_dir_ + "/" + step + ".log", std::ios::binary);
  if (!in) return Status::Ok();  // the step wrote nothing
  std::ostringstream text;
  text << in.rdbuf();
  return store_->PutLog(run_id_, step, text.str());
}

Status StoreMirror::Record(const nlohmann::json& record) {
  Note(record);
  const std::string type = record.value("type", "");
  if (type == "run_started") return store_->StartRun(record);
  if (Status st = store_->AddRecord(run_id_, record, StepsDone(), outcome_, ended_); !st.ok()) {
    return st;
  }
  if (type == "step_finished") return PutLog(record.value("step", ""));
  return Status::Ok();
}

}  // namespace runbook
