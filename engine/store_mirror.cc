#include "engine/store_mirror.h"

#include <nlohmann/json.hpp>

#include "engine/log_tail.h"

namespace runbook {
namespace {

// The most of a log sent in one go: a step that printed megabytes in a second catches up over
// a few passes rather than in one statement.
constexpr size_t kMaxLogSend = 4u << 20;

}  // namespace

StoreMirror::StoreMirror(std::unique_ptr<PgStore> store, std::string run_id, std::string log_dir)
    : store_(std::move(store)), run_id_(std::move(run_id)), log_dir_(std::move(log_dir)) {}

StoreMirror::~StoreMirror() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (streamer_.joinable()) streamer_.join();
}

Result<std::unique_ptr<StoreMirror>> StoreMirror::Open(std::unique_ptr<PgStore> store,
                                                       const std::string& run_id,
                                                       const std::string& log_dir,
                                                       const std::vector<nlohmann::json>& existing,
                                                       std::chrono::milliseconds stream_every) {
  using R = Result<std::unique_ptr<StoreMirror>>;
  std::unique_ptr<StoreMirror> m(new StoreMirror(std::move(store), run_id, log_dir));
  if (!existing.empty()) {
    auto last = m->store_->LastSeq(run_id);
    if (!last.ok()) return R::Error(last.message());
    std::set<std::string> logged;  // every step with a record: it may have a log
    for (const nlohmann::json& record : existing) {
      m->Note(record);
      if (record.contains("step")) logged.insert(record.value("step", ""));
    }
    if (!*last) {
      // Started before it was kept in the store (or while the store was away at its start).
      auto imported = m->store_->ImportRun(existing, {});
      if (!imported.ok()) return R::Error(imported.message());
    } else {
      // Records written while the store was away: copied now, in order.
      for (const nlohmann::json& record : existing) {
        if (record.value("seq", int64_t{0}) <= **last) continue;
        if (Status st =
                m->store_->AddRecord(run_id, record, m->StepsDone(), m->outcome_, m->ended_);
            !st.ok()) {
          return R::Error(st.message());
        }
      }
    }
    std::lock_guard<std::mutex> lock(m->mu_);
    m->running_.clear();  // none runs in this process yet
    for (const std::string& step : logged) {
      if (Status st = m->SendLog(step, /*whole_lines=*/false); !st.ok()) {
        return R::Error(st.message());
      }
    }
  }
  m->streamer_ = std::thread([mirror = m.get(), stream_every] { mirror->Stream(stream_every); });
  return m;
}

void StoreMirror::Note(const nlohmann::json& record) {
  const std::string type = record.value("type", "");
  if (type == "step_started") {
    running_.insert(record.value("step", ""));
  } else if (type == "step_finished") {
    step_outcome_[record.value("step", "")] = record.value("outcome", "");
    running_.erase(record.value("step", ""));
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

Status StoreMirror::SendLog(const std::string& step, bool whole_lines) {
  auto known = sent_.find(step);
  if (known == sent_.end()) {
    // First time in this process: the store may hold what an earlier process of the run sent.
    auto extent = store_->StoredLog(run_id_, step);
    if (!extent.ok()) return Status::Error(extent.message());
    known = sent_.emplace(step, *extent).first;
  }
  PgStore::LogExtent& sent = known->second;
  while (true) {
    auto bytes = ReadLogFrom(log_dir_ + "/" + step + ".log", sent.bytes, kMaxLogSend);
    // A log that cannot be read is left out, as `logs` leaves it out: the run goes on.
    if (!bytes.ok() || bytes->empty()) return Status::Ok();
    const size_t n = whole_lines ? WholeLines(*bytes) : bytes->size();
    if (n == 0) return Status::Ok();
    if (Status st = store_->AppendLog(run_id_, step, std::string_view(*bytes).substr(0, n), &sent);
        !st.ok()) {
      return st;
    }
    if (bytes->size() < kMaxLogSend) return Status::Ok();
  }
}

void StoreMirror::Stream(std::chrono::milliseconds every) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, every, [&] { return stopping_; })) {
    if (!failed_.empty()) return;
    for (const std::string& step : running_) {
      if (Status st = SendLog(step, /*whole_lines=*/true); !st.ok()) {
        failed_ = st.message();
        return;
      }
    }
  }
}

Status StoreMirror::Record(const nlohmann::json& record) {
  std::lock_guard<std::mutex> lock(mu_);
  // The streamer found the store gone: this record is kept only in the local journal.
  if (!failed_.empty()) return Status::Error(failed_);
  Note(record);
  const std::string type = record.value("type", "");
  Status st = type == "run_started"
                  ? store_->StartRun(record)
                  : store_->AddRecord(run_id_, record, StepsDone(), outcome_, ended_);
  if (st.ok() && type == "step_finished") st = SendLog(record.value("step", ""), false);
  if (!st.ok()) failed_ = st.message();
  return st;
}

}  // namespace runbook
