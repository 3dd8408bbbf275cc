#include "cli/follow.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/log_tail.h"
#include "engine/pg_store.h"
#include "engine/printable.h"
#include "engine/process_table.h"
#include "engine/run_state.h"
#include "engine/units.h"

namespace runbook {
namespace {

// How often the run is looked at: a line shows within half a second of reaching the source.
constexpr auto kPollEvery = std::chrono::milliseconds(500);
// The most of one log read in one pass.
constexpr size_t kMaxLogRead = 1u << 20;

std::atomic<bool> g_stop{false};
void OnStop(int) {
  g_stop.store(true);
}

class FileSource : public FollowSource {
 public:
  explicit FileSource(RunInfo run) : run_(std::move(run)) {}

  Result<std::vector<nlohmann::json>> Records(int64_t after_seq) override {
    using R = Result<std::vector<nlohmann::json>>;
    auto contents = ReadJournal(run_.journal);
    if (!contents.ok()) return R::Error(contents.message());
    std::vector<nlohmann::json> out;
    for (const nlohmann::json& r : contents->records) {
      if (r.value("seq", int64_t{0}) > after_seq) out.push_back(r);
    }
    return out;
  }

  Result<std::vector<std::pair<std::string, std::string>>> NewLog(
      const std::vector<std::string>& steps, bool all) override {
    using R = Result<std::vector<std::pair<std::string, std::string>>>;
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& step : steps) {
      int64_t& offset = offsets_[step];
      while (true) {
        auto bytes = ReadLogFrom(Path(step), offset, kMaxLogRead);
        if (!bytes.ok()) return R::Error(bytes.message());
        const size_t n = all ? bytes->size() : WholeLines(*bytes);
        if (n == 0) break;
        out.emplace_back(step, bytes->substr(0, n));
        offset += static_cast<int64_t>(n);
        if (bytes->size() < kMaxLogRead) break;
      }
    }
    return out;
  }

  Status SkipToEnd(const std::vector<std::string>& steps) override {
    for (const std::string& step : steps) {
      while (true) {
        auto bytes = ReadLogFrom(Path(step), offsets_[step], kMaxLogRead);
        if (!bytes.ok()) return Status::Error(bytes.message());
        const size_t n = WholeLines(*bytes);
        offsets_[step] += static_cast<int64_t>(n);
        if (n == 0 || bytes->size() < kMaxLogRead) break;
      }
    }
    return Status::Ok();
  }

  Result<bool> EngineDisconnected() override { return false; }

 private:
  std::string Path(const std::string& step) const { return run_.dir + "/logs/" + step + ".log"; }

  const RunInfo run_;
  std::map<std::string, int64_t> offsets_;
};

class StoreSource : public FollowSource {
 public:
  StoreSource(PgStore* store, std::string run_id) : store_(store), run_id_(std::move(run_id)) {}

  Result<std::vector<nlohmann::json>> Records(int64_t after_seq) override {
    return store_->RecordsAfter(run_id_, after_seq);
  }

  // The store holds whole lines of a running step (engine/store_mirror.h), so `all` changes
  // nothing here.
  Result<std::vector<std::pair<std::string, std::string>>> NewLog(
      const std::vector<std::string>& steps, bool) override {
    using R = Result<std::vector<std::pair<std::string, std::string>>>;
    auto pieces = store_->LogPiecesAfter(run_id_, seen_);
    if (!pieces.ok()) return R::Error(pieces.message());
    std::map<std::string, std::string> by_step;
    for (const PgStore::LogPiece& p : *pieces) {
      seen_[p.step] = p.chunk;
      by_step[p.step] += p.data;
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& step : steps) {
      auto it = by_step.find(step);
      if (it != by_step.end()) out.emplace_back(step, std::move(it->second));
    }
    return out;
  }

  Status SkipToEnd(const std::vector<std::string>&) override {
    auto pieces = store_->LogPiecesAfter(run_id_, seen_);
    if (!pieces.ok()) return Status::Error(pieces.message());
    for (const PgStore::LogPiece& p : *pieces) seen_[p.step] = p.chunk;
    return Status::Ok();
  }

  Result<bool> EngineDisconnected() override {
    auto connected = store_->EngineConnected(run_id_);
    if (!connected.ok()) return Result<bool>::Error(connected.message());
    return !*connected;
  }

 private:
  PgStore* store_;
  const std::string run_id_;
  std::map<std::string, int> seen_;  // the last chunk shown of each step's log
};

// The steps whose lines and transitions are shown.
std::vector<std::string> Followed(const RunState& rs, const std::string& only) {
  std::vector<std::string> steps;
  for (const auto* ids : {&rs.step_ids, &rs.finally_ids}) {
    for (const std::string& id : *ids) {
      // A journal's ids are data: only names of the pattern become file names.
      if (IsStepId(id) && (only.empty() || id == only)) steps.push_back(id);
    }
  }
  return steps;
}

// Prints one piece of a step's log, line by line: as it is when one step is followed (as
// `tail -f` prints one file), else each line after its step's id.
void PrintLog(const std::string& step, const std::string& bytes, bool prefix) {
  size_t start = 0;
  while (start < bytes.size()) {
    size_t nl = bytes.find('\n', start);
    const size_t end = nl == std::string::npos ? bytes.size() : nl;
    const std::string line = Printable(std::string_view(bytes).substr(start, end - start));
    if (prefix) {
      std::printf("[%s] %s\n", step.c_str(), line.c_str());
    } else {
      std::printf("%s\n", line.c_str());
    }
    start = end + 1;
  }
}

// A step's transition, as the run's terminal shows it; "" for records that are none.
std::string Transition(const nlohmann::json& r) {
  const std::string type = r.value("type", "");
  const std::string step = Printable(r.value("step", ""));
  if (type == "step_started") {
    const int attempt = r.value("attempt", 1);
    return "> " + step + (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : "");
  }
  if (type == "step_finished") {
    std::string line = "= " + step + " " + Printable(r.value("outcome", ""));
    const int64_t ms = r.value("duration_ms", int64_t{0});
    if (ms > 0) line += " " + FormatElapsed(static_cast<double>(ms) / 1000.0);
    const std::string message = r.value("message", "");
    if (!message.empty()) line += " (" + Printable(message) + ")";
    return line;
  }
  if (type == "run_resumed")
    return "! the run was resumed by pid " + std::to_string(r.value("pid", 0)) + " on " +
           Printable(r.value("host", ""));
  return "";
}

}  // namespace

std::unique_ptr<FollowSource> FileFollowSource(const RunInfo& run) {
  return std::make_unique<FileSource>(run);
}

std::unique_ptr<FollowSource> StoreFollowSource(PgStore* store, const std::string& run_id) {
  return std::make_unique<StoreSource>(store, run_id);
}

int FollowRun(FollowSource& source, const FollowOptions& options) {
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<nlohmann::json> records;
  auto fail = [](const std::string& message) {
    std::fflush(stdout);
    std::fprintf(stderr, "runbook: %s\n", message.c_str());
    return static_cast<int>(kExitRefused);
  };
  auto first = source.Records(0);
  if (!first.ok()) return fail(first.message());
  records = std::move(first).value();
  RunState rs = ReplayJournal(records);
  if (rs.run_id.empty()) return fail("the run has no run_started record");
  const bool prefix = options.step.empty();
  if (!options.from_start) {
    if (Status st = source.SkipToEnd(Followed(rs, options.step)); !st.ok()) {
      return fail(st.message());
    }
  }
  if (!rs.finished) {
    std::fprintf(stderr, "following run %s of %s; Ctrl-C stops following, not the run\n",
                 rs.run_id.c_str(), rs.runbook.c_str());
  }
  bool dead_seen = false;
  while (true) {
    auto more = source.Records(records.empty() ? 0 : records.back().value("seq", int64_t{0}));
    if (!more.ok()) return fail(more.message());
    records.insert(records.end(), more->begin(), more->end());
    if (!more->empty()) rs = ReplayJournal(records);
    auto logs = source.NewLog(Followed(rs, options.step), rs.finished);
    if (!logs.ok()) return fail(logs.message());
    std::map<std::string, std::string> lines(logs->begin(), logs->end());
    auto print_lines = [&](const std::string& step) {
      auto it = lines.find(step);
      if (it == lines.end()) return;
      PrintLog(step, it->second, prefix);
      lines.erase(it);
    };
    // In the records' order: a step's start before its lines, its end after them.
    for (const nlohmann::json& r : *more) {
      const std::string step = r.value("step", "");
      if (!options.step.empty() && step != options.step) continue;
      if (r.value("type", "") == "step_finished") print_lines(step);
      if (std::string t = Transition(r); !t.empty()) std::printf("%s\n", t.c_str());
    }
    for (const auto& [step, bytes] : lines) PrintLog(step, bytes, prefix);
    std::fflush(stdout);
    if (rs.finished) {
      std::printf("run %s ended: %s (exit %d)\n", rs.run_id.c_str(), rs.outcome.c_str(),
                  rs.exit_code);
      std::fflush(stdout);
      return rs.exit_code;
    }
    // A dead engine writes nothing more: look once more (it may have finished as it exited).
    const bool died_here = EngineLivenessOf(rs.pid, rs.host, rs.boot_id) == EngineLiveness::kDead;
    auto let_go = died_here ? Result<bool>(false) : source.EngineDisconnected();
    if (!let_go.ok()) return fail(let_go.message());
    if (died_here || *let_go) {
      if (!dead_seen) {
        dead_seen = true;
        continue;
      }
      if (died_here) {
        std::fprintf(stderr,
                     "runbook: the engine of run %s (pid %d) died before the run ended; "
                     "`runbook resume %s` continues it\n",
                     rs.run_id.c_str(), rs.pid, rs.run_id.c_str());
      } else {
        std::fprintf(stderr,
                     "runbook: the engine of run %s (pid %d on %s) is no longer connected to the "
                     "state store: it died, or lost the store and starts no new step; `runbook "
                     "resume %s` continues the run once that engine has stopped\n",
                     rs.run_id.c_str(), rs.pid, Printable(rs.host).c_str(), rs.run_id.c_str());
      }
      return kExitRefused;
    }
    dead_seen = false;
    for (auto waited = std::chrono::milliseconds(0); waited < kPollEvery && !g_stop.load();
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (g_stop.load()) {
      std::fprintf(stderr,
                   "stopped following run %s; it goes on (`runbook status --follow %s` follows "
                   "it again)\n",
                   rs.run_id.c_str(), rs.run_id.c_str());
      return kExitInterrupted;
    }
  }
}

}  // namespace runbook
