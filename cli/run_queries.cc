#include "cli/run_queries.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <tuple>

#include "cli/follow.h"
#include "engine/downtime.h"
#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/loader.h"
#include "engine/pg_store.h"
#include "engine/printable.h"
#include "engine/process_table.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"
#include "engine/units.h"
#include "steps/registry.h"

namespace runbook {

namespace {

Result<RunState> ReadState(const RunInfo& run) {
  auto contents = ReadJournal(run.journal);
  if (!contents.ok()) return Result<RunState>::Error(contents.message());
  return ReplayJournal(contents->records);
}

// The step the run last started or finished, with its status; "-" before any.
std::string LastStep(const RunState& rs) {
  const std::pair<const std::string, StepState>* last = nullptr;
  std::string last_ts;
  for (const auto& entry : rs.steps) {
    const StepState& st = entry.second;
    const std::string ts = std::max(st.started_at, st.finished_at);
    if (!ts.empty() && ts >= last_ts) {
      last_ts = ts;
      last = &entry;
    }
  }
  if (!last) return "-";
  return last->first + " (" + StepStatusName(last->second.status) + ")";
}

// The run's steps, then its finally steps (with `true`), in runbook order.
std::vector<std::pair<std::string, bool>> StepsInOrder(const RunState& rs) {
  std::vector<std::pair<std::string, bool>> out;
  for (const std::string& id : rs.step_ids) out.emplace_back(id, false);
  for (const std::string& id : rs.finally_ids) out.emplace_back(id, true);
  return out;
}

// Whether the engine of an unfinished run still runs (RunState::pid, host and boot id).
EngineLiveness Liveness(const RunState& rs) {
  if (rs.finished) return EngineLiveness::kDead;
  return EngineLivenessOf(rs.pid, rs.host, rs.boot_id);
}

const char* StatusText(StepStatus s, EngineLiveness engine) {
  switch (s) {
    case StepStatus::kPending:
      return "pending";
    case StepStatus::kRunning:
      switch (engine) {
        case EngineLiveness::kAlive:
          return "running";
        case EngineLiveness::kDead:
          return "engine died";
        case EngineLiveness::kElsewhere:
          return "running elsewhere?";
      }
      return "running";
    case StepStatus::kSucceeded:
      return "success";
    case StepStatus::kFailed:
      return "failure";
    case StepStatus::kSkipped:
      return "skipped";
    case StepStatus::kDone:
      return "done";
    case StepStatus::kInterrupted:
      return "interrupted";
    case StepStatus::kBlocked:
      return "blocked";
  }
  return "unknown";
}

// For JSON: "alive", "dead" (also when the run finished) or "unknown" (another host).
const char* EngineText(EngineLiveness live) {
  switch (live) {
    case EngineLiveness::kAlive:
      return "alive";
    case EngineLiveness::kDead:
      return "dead";
    case EngineLiveness::kElsewhere:
      return "unknown";
  }
  return "unknown";
}

// For a column: the outcome, or "running", "engine died", "unfinished" (another host's engine).
const char* ShortOutcome(const RunState& rs) {
  if (rs.finished) return rs.outcome.c_str();
  switch (Liveness(rs)) {
    case EngineLiveness::kAlive:
      return "running";
    case EngineLiveness::kDead:
      return "engine died";
    case EngineLiveness::kElsewhere:
      return "unfinished";
  }
  return "unfinished";
}

nlohmann::json DowntimeJson(const WindowState& w) {
  nlohmann::json j = {
      {"from", w.from},
      {"to", w.to},
      {"opened", w.opened_at.empty() ? nlohmann::json() : nlohmann::json(w.opened_at)},
      {"closed", w.closed_at.empty() ? nlohmann::json() : nlohmann::json(w.closed_at)},
      {"duration_ms", w.duration_ms ? nlohmann::json(*w.duration_ms) : nlohmann::json()}};
  return j;
}

// The window in a history line: its length, "open" or "-" when it never opened.
std::string HistoryDowntime(const WindowState& w) {
  if (w.duration_ms) return "downtime " + FormatElapsed(*w.duration_ms / 1000.0);
  return w.opened_at.empty() ? "downtime -" : "downtime open";
}

std::string RunOutcomeText(const RunState& rs) {
  if (rs.finished) return rs.outcome;
  switch (Liveness(rs)) {
    case EngineLiveness::kAlive:
      return "running (engine pid " + std::to_string(rs.pid) + " is alive)";
    case EngineLiveness::kDead:
      return "engine died (pid " + std::to_string(rs.pid) + " is gone)";
    case EngineLiveness::kElsewhere:
      return "unfinished (its engine runs on " + rs.host + ": cannot tell from here)";
  }
  return "unfinished";
}

// `history`'s text is a table: id, runbook, start, who started the run, outcome, steps done, then
// the steps chosen and the downtime when there are. The runbook and user@host columns are as
// wide as their widest entry in the list.
struct HistoryWidths {
  int runbook = 0, by = 0;
  void Fit(std::string_view runbook_name, std::string_view started_by) {
    runbook = std::max(runbook, static_cast<int>(runbook_name.size()));
    by = std::max(by, static_cast<int>(started_by.size()));
  }
};

// One row. Views, no copies: `history` of a store prints 10,000 of them.
struct HistoryRow {
  std::string_view run_id, runbook, started, by, outcome;
  std::string_view steps;                // "2/3 steps", maybe ", finally 1/1"
  std::string_view selection, downtime;  // "" when none
};

void PrintHistoryRow(const HistoryWidths& w, const HistoryRow& r) {
  auto n = [](std::string_view v) { return static_cast<int>(v.size()); };
  const char* gap = "  ";
  std::printf("%-21.*s  %-*.*s  %-24.*s  %-*.*s  %-11.*s  %.*s%s%.*s%s%.*s\n", n(r.run_id),
              r.run_id.data(), w.runbook, n(r.runbook), r.runbook.data(), n(r.started),
              r.started.data(), w.by, n(r.by), r.by.data(), n(r.outcome), r.outcome.data(),
              n(r.steps), r.steps.data(), r.selection.empty() ? "" : gap, n(r.selection),
              r.selection.data(), r.downtime.empty() ? "" : gap, n(r.downtime), r.downtime.data());
}

// Who started a run and the steps chosen, in `history --format json`: "user", "host", and
// "only", "from", "rerun" when given (as `status` shows each session).
void PutStartedBy(const std::string& user, const std::string& host, const StepSelection& selection,
                  nlohmann::json* j) {
  (*j)["user"] = user;
  (*j)["host"] = host;
  j->update(SelectionJson(selection));
}

// How a question was answered, for `status`.
std::string AnswerText(const Answer& a) {
  if (a.by == "yes") return "by --yes, nobody was asked";
  if (a.by == "terminal") return "on the terminal after " + FormatElapsed(a.waited_ms / 1000.0);
  return "after " + FormatElapsed(a.waited_ms / 1000.0);
}

// Resolves "RUN_ID | FILE | nothing" to a run.
std::optional<RunInfo> Target(const std::string& state, const std::string& target) {
  if (target.empty()) {
    auto runs = ListRuns(state, "");  // oldest first, by start time
    if (runs.empty()) return std::nullopt;
    return runs.back();
  }
  if (std::filesystem::is_regular_file(target)) {
    Diagnostics diags;
    LoadOptions probe;
    probe.kinds = &BuiltinKinds();
    probe.require_params = RequireParams::kNo;
    auto loaded = LoadRunbook(target, probe, &diags);
    if (!loaded) return std::nullopt;
    return LatestRun(state, loaded->runbook.name);
  }
  return FindRun(state, target);
}

}  // namespace

Result<std::vector<ResumableRun>> UnfinishedRuns(const std::string& state,
                                                 const std::string& runbook) {
  using R = Result<std::vector<ResumableRun>>;
  // Only the newest run of each runbook can be resumed; an older one was superseded.
  std::map<std::string, RunInfo> newest;
  for (RunInfo& r : ListRuns(state, runbook)) newest[r.name] = std::move(r);  // oldest first
  std::vector<ResumableRun> out;
  for (auto& [name, info] : newest) {
    // A damaged newest journal may hide an unfinished run: never read it as "nothing to resume".
    auto rs = ReadState(info);
    if (!rs.ok()) return R::Error(rs.message());
    if (!Unfinished(*rs)) continue;
    ResumableRun& run = out.emplace_back();
    run.info = std::move(info);
    run.state = std::move(rs).value();
    run.last_step = LastStep(run.state);
  }
  std::sort(out.begin(), out.end(), [](const ResumableRun& a, const ResumableRun& b) {
    return std::tie(a.info.started_ms, a.info.run_id) < std::tie(b.info.started_ms, b.info.run_id);
  });
  return out;
}

std::optional<std::string> RunbookNameOf(const std::string& file) {
  Diagnostics diags;
  LoadOptions probe;
  probe.kinds = &BuiltinKinds();
  probe.require_params = RequireParams::kNo;
  auto loaded = LoadRunbook(file, probe, &diags);
  if (!loaded) {
    for (const Diagnostic& d : diags.errors()) std::fprintf(stderr, "%s\n", d.ToString().c_str());
    return std::nullopt;
  }
  return loaded->runbook.name;
}

namespace {

// `store_connected`: for a run read from the state store, whether its engine's lock connection
// is open there, which tells about an engine on another host.
int PrintStatus(const Result<RunState>& rs, const std::string& dir, bool json,
                std::optional<bool> store_connected = std::nullopt);

// The step STEP of `logs RUN STEP --follow` must be one of the run's, started or not.
bool KnownStep(const RunState& rs, const std::string& step) {
  for (const auto& [id, in_finally] : StepsInOrder(rs)) {
    if (id == step) return true;
  }
  std::fprintf(stderr, "runbook: run %s has no step '%s'\n", rs.run_id.c_str(), step.c_str());
  return false;
}

// `status` against the state store: the run TARGET names (as with a state directory).
int StoreStatus(const std::string& url, const std::string& target, bool json, bool follow) {
  auto store = PgStore::Open(url, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  Result<std::optional<StoredRun>> run = std::optional<StoredRun>();
  if (target.empty()) {
    run = (*store)->LatestRun("");
  } else if (std::filesystem::is_regular_file(target)) {
    std::optional<std::string> name = RunbookNameOf(target);
    if (!name) return kExitInvalid;
    run = (*store)->LatestRun(*name);
  } else {
    run = (*store)->FindRun(target);
  }
  if (!run.ok()) {
    std::fprintf(stderr, "runbook: %s\n", run.message().c_str());
    return kExitRefused;
  }
  if (!*run) {
    std::fprintf(stderr, "runbook: no run found in the state store%s\n",
                 target.empty() ? "" : (" for " + target).c_str());
    return kExitRefused;
  }
  auto records = (*store)->Records((*run)->run_id);
  if (!records.ok()) return PrintStatus(Result<RunState>::Error(records.message()), "", json);
  const RunState rs = ReplayJournal(*records);
  std::optional<bool> connected;
  if (!rs.finished) {
    auto c = (*store)->EngineConnected(rs.run_id);
    if (c.ok()) connected = *c;
  }
  const int rc = PrintStatus(rs, "", json, connected);
  if (rc != kExitOk || !follow) return rc;
  std::fflush(stdout);
  auto source = StoreFollowSource(store->get(), (*run)->run_id);
  return FollowRun(*source, {});
}

}  // namespace

int CmdStatus(const std::string& target, bool json, const std::string& store_url, bool follow) {
  if (!store_url.empty()) return StoreStatus(store_url, target, json, follow);
  const std::string state = StateDir();
  auto run = Target(state, target);
  if (!run) {
    std::fprintf(stderr, "runbook: no run found%s\n",
                 target.empty() ? "" : (" for " + target).c_str());
    return kExitRefused;
  }
  if (auto rs = ReadState(*run); !rs.ok()) {
    std::fprintf(stderr, "runbook: run %s: %s\n", run->run_id.c_str(), rs.message().c_str());
    return kExitRefused;
  } else if (const int rc = PrintStatus(rs, run->dir, json); rc != kExitOk || !follow) {
    return rc;
  }
  std::fflush(stdout);
  auto source = FileFollowSource(*run);
  return FollowRun(*source, {});
}

namespace {

int PrintStatus(const Result<RunState>& rs, const std::string& dir, bool json,
                std::optional<bool> store_connected) {
  if (!rs.ok()) {
    std::fprintf(stderr, "runbook: %s\n", rs.message().c_str());
    return kExitRefused;
  }
  EngineLiveness live = Liveness(*rs);
  std::string outcome = RunOutcomeText(*rs);
  if (live == EngineLiveness::kElsewhere && store_connected) {
    const std::string engine =
        "its engine, pid " + std::to_string(rs->pid) + " on " + Printable(rs->host) + ", ";
    live = *store_connected ? EngineLiveness::kAlive : EngineLiveness::kDead;
    outcome = *store_connected ? "running (" + engine + "is connected to the state store)"
                               : "stopped (" + engine +
                                     "is no longer connected to the state store: it died or "
                                     "lost the store)";
  }
  if (json) {
    nlohmann::json j = {{"run_id", rs->run_id},
                        {"runbook", rs->runbook},
                        {"path", rs->path},
                        {"started", rs->started_at},
                        {"ended", rs->ended_at},
                        {"finished", rs->finished},
                        {"outcome", rs->finished ? rs->outcome : "unfinished"},
                        {"engine", EngineText(live)},
                        {"pid", rs->pid},
                        {"user", rs->user},
                        {"host", rs->host},
                        {"dir", dir}};
    nlohmann::json sessions = nlohmann::json::array();
    for (const Session& s : rs->sessions) {
      nlohmann::json session = {{"ts", s.ts}, {"user", s.user}, {"host", s.host}, {"pid", s.pid}};
      if (!s.selection.only.empty()) session["only"] = s.selection.only;
      if (!s.selection.from.empty()) session["from"] = s.selection.from;
      if (!s.selection.rerun.empty()) session["rerun"] = s.selection.rerun;
      if (!s.changed_options.empty()) session["options"] = s.changed_options;
      for (const auto& [old_id, new_id] : s.renamed) session["renamed"][old_id] = new_id;
      sessions.push_back(session);
    }
    j["sessions"] = sessions;
    nlohmann::json answers = nlohmann::json::array();
    for (const Answer& a : rs->answers) {
      answers.push_back({{"step", a.step},
                         {"ts", a.ts},
                         {"confirmed", a.confirmed},
                         {"by", a.by},
                         {"waited_ms", a.waited_ms}});
    }
    j["confirmations"] = answers;
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& [id, in_finally] : StepsInOrder(*rs)) {
      auto it = rs->steps.find(id);
      nlohmann::json s = {{"id", id}, {"status", "pending"}, {"finally", in_finally}};
      if (it != rs->steps.end()) {
        s["status"] = StatusText(it->second.status, live);
        s["attempts"] = it->second.attempts;
        s["duration_ms"] = it->second.duration_ms;
        s["message"] = it->second.message;
      }
      steps.push_back(s);
    }
    j["steps"] = steps;
    if (rs->downtime) j["downtime"] = DowntimeJson(*rs->downtime);
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf("run %s of %s (%s)\n", rs->run_id.c_str(), rs->runbook.c_str(), rs->path.c_str());
  for (size_t i = 0; i < rs->sessions.size(); ++i) {
    const Session& s = rs->sessions[i];
    std::string given = s.selection.Describe();
    if (!s.changed_options.empty()) given += (given.empty() ? "" : " ") + s.changed_options;
    for (const auto& [old_id, new_id] : s.renamed) {
      given += (given.empty() ? "" : "; ") + ("renamed " + old_id + " -> " + new_id);
    }
    std::printf("%s %s by %s pid %d%s\n", i == 0 ? "started" : "resumed", s.ts.c_str(),
                OperatorName(s.user, s.host).c_str(), s.pid,
                given.empty() ? "" : (": " + given).c_str());
  }
  std::printf("outcome: %s\n", outcome.c_str());
  bool finally_shown = false;
  for (const auto& [id, in_finally] : StepsInOrder(*rs)) {
    if (in_finally && !finally_shown) {
      std::printf("finally:\n");
      finally_shown = true;
    }
    auto it = rs->steps.find(id);
    if (it == rs->steps.end()) {
      std::printf("  %-30s pending\n", id.c_str());
      continue;
    }
    std::printf("  %-30s %-24s %6.1fs  %d attempt%s  %s\n", id.c_str(),
                StatusText(it->second.status, live), it->second.duration_ms / 1000.0,
                it->second.attempts, it->second.attempts == 1 ? "" : "s",
                it->second.message.c_str());
  }
  if (!rs->answers.empty()) std::printf("confirmations:\n");
  for (const Answer& a : rs->answers) {
    std::printf("  %-30s %-3s %s (%s)\n", a.step.c_str(), a.confirmed ? "yes" : "no",
                AnswerText(a).c_str(), a.ts.c_str());
  }
  if (rs->downtime) std::printf("downtime: %s\n", DowntimeText(*rs->downtime).c_str());
  if (!rs->finished || rs->outcome != "success") {
    std::printf("resume with: runbook resume %s\n", rs->run_id.c_str());
  }
  return kExitOk;
}

// `history` against the state store: from its runs table, no record read.
int StoreHistory(const std::string& url, const std::string& name, bool json) {
  auto store = PgStore::Open(url, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  auto runs = (*store)->ListRuns(name);
  if (!runs.ok()) {
    std::fprintf(stderr, "runbook: %s\n", runs.message().c_str());
    return kExitRefused;
  }
  if ((*store)->schema_version() < kStoreSchemaVersion) {
    std::fprintf(stderr,
                 "runbook: the state store's schema is version %d: who started each run and the "
                 "steps chosen show once it is upgraded to %d (`runbook state init` by its owner, "
                 "or any run)\n",
                 (*store)->schema_version(), kStoreSchemaVersion);
  }
  nlohmann::json out = nlohmann::json::array();
  // Printed a row at a time once the widths are known: no copy of the list.
  HistoryWidths widths;
  if (!json) {
    for (const StoredRun& r : *runs) widths.Fit(r.runbook, OperatorName(r.user, r.host));
  }
  for (const StoredRun& r : *runs) {
    const std::string_view outcome =
        r.outcome.empty() ? std::string_view("unfinished") : std::string_view(r.outcome);
    if (json) {
      out.push_back({{"run_id", r.run_id},
                     {"runbook", r.runbook},
                     {"started", r.started},
                     {"ended", r.ended},
                     {"outcome", outcome},
                     {"steps_done", r.steps_done},
                     {"steps", r.steps}});
      PutStartedBy(r.user, r.host, r.selection, &out.back());
    } else {
      char steps[48];
      std::snprintf(steps, sizeof steps, "%d/%d steps", r.steps_done, r.steps);
      const std::string by = OperatorName(r.user, r.host);
      const std::string selection = r.selection.empty() ? "" : r.selection.Describe();
      PrintHistoryRow(widths, {r.run_id, r.runbook, r.started, by, outcome, steps, selection, ""});
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return kExitOk;
}

// `logs` against the state store.
int StoreLogs(const std::string& url, const std::string& run_id, const std::string& step,
              bool follow) {
  auto store = PgStore::Open(url, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  auto run = (*store)->FindRun(run_id);
  if (!run.ok() || !*run) {
    std::fprintf(
        stderr, "runbook: %s\n",
        run.ok() ? ("no run " + run_id + " in the state store").c_str() : run.message().c_str());
    return kExitRefused;
  }
  if (follow) {
    auto records = (*store)->Records(run_id);
    if (!records.ok()) {
      std::fprintf(stderr, "runbook: %s\n", records.message().c_str());
      return kExitRefused;
    }
    if (!step.empty() && !KnownStep(ReplayJournal(*records), step)) return kExitRefused;
    auto source = StoreFollowSource(store->get(), run_id);
    return FollowRun(*source, {step, /*from_start=*/true});
  }
  auto has_log = (*store)->LogSteps(run_id);
  auto records = (*store)->Records(run_id);
  if (!has_log.ok() || !records.ok()) {
    std::fprintf(stderr, "runbook: %s\n",
                 (has_log.ok() ? records.message() : has_log.message()).c_str());
    return kExitRefused;
  }
  auto logged = [&](const std::string& id) {
    return std::find(has_log->begin(), has_log->end(), id) != has_log->end();
  };
  std::vector<std::string> steps;
  if (!step.empty()) {
    if (!logged(step)) {
      std::fprintf(stderr, "runbook: run %s has no log for step '%s'\n", run_id.c_str(),
                   step.c_str());
      return kExitRefused;
    }
    steps.push_back(step);
  } else {
    for (const std::string& id : ReplayJournal(*records).step_ids) {
      if (logged(id)) steps.push_back(id);
    }
  }
  for (const std::string& id : steps) {
    auto text = (*store)->Log(run_id, id);
    if (!text.ok()) {
      std::fprintf(stderr, "runbook: %s\n", text.message().c_str());
      return kExitRefused;
    }
    if (step.empty()) std::printf("==> %s <==\n", id.c_str());
    std::fwrite(text->data(), 1, text->size(), stdout);
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

int CmdHistory(const std::string& file, bool json, const std::string& store_url) {
  const std::string state = StateDir();
  std::string name;
  if (!file.empty()) {
    std::optional<std::string> n = RunbookNameOf(file);
    if (!n) return kExitInvalid;
    name = *n;
  }
  if (!store_url.empty()) return StoreHistory(store_url, name, json);
  auto runs = ListRuns(state, name);  // oldest first, by start time
  nlohmann::json out = nlohmann::json::array();
  struct Row {
    std::string run_id, runbook, started, by, outcome, steps, selection, downtime;
  };
  std::vector<Row> rows;
  for (const RunInfo& r : runs) {
    auto rs = ReadState(r);
    if (!rs.ok()) {
      std::fprintf(stderr, "runbook: run %s: %s\n", r.run_id.c_str(), rs.message().c_str());
      continue;
    }
    auto count_done = [&](const std::vector<std::string>& ids) {
      int done = 0;
      for (const std::string& id : ids) {
        auto it = rs->steps.find(id);
        if (it == rs->steps.end()) continue;
        const StepStatus st = it->second.status;
        done +=
            st == StepStatus::kSucceeded || st == StepStatus::kDone || st == StepStatus::kSkipped;
      }
      return done;
    };
    const int done = count_done(rs->step_ids);
    const int finally_done = count_done(rs->finally_ids);
    std::string finally_text;
    if (!rs->finally_ids.empty()) {
      finally_text = ", finally " + std::to_string(finally_done) + "/" +
                     std::to_string(rs->finally_ids.size());
    }
    const Session started = rs->sessions.empty() ? Session{} : rs->sessions.front();
    if (json) {
      out.push_back({{"run_id", rs->run_id},
                     {"runbook", rs->runbook},
                     {"started", rs->started_at},
                     {"ended", rs->ended_at},
                     {"outcome", rs->finished ? rs->outcome : "unfinished"},
                     {"engine", EngineText(Liveness(*rs))},
                     {"steps_done", done},
                     {"steps", rs->step_ids.size()},
                     {"finally_done", finally_done},
                     {"finally", rs->finally_ids.size()}});
      PutStartedBy(started.user, started.host, started.selection, &out.back());
      if (rs->downtime) out.back()["downtime"] = DowntimeJson(*rs->downtime);
    } else {
      rows.push_back({rs->run_id, rs->runbook, rs->started_at,
                      OperatorName(started.user, started.host), ShortOutcome(*rs),
                      std::to_string(done) + "/" + std::to_string(rs->step_ids.size()) + " steps" +
                          finally_text,
                      started.selection.Describe(),
                      rs->downtime ? HistoryDowntime(*rs->downtime) : ""});
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  HistoryWidths widths;
  for (const Row& r : rows) widths.Fit(r.runbook, r.by);
  for (const Row& r : rows) {
    PrintHistoryRow(widths, {r.run_id, r.runbook, r.started, r.by, r.outcome, r.steps, r.selection,
                             r.downtime});
  }
  return kExitOk;
}

int CmdLogs(const std::string& run_id, const std::string& step, const std::string& store_url,
            bool follow) {
  // Only names of the patterns: an id is never a path.
  if (!IsRunId(run_id)) {
    std::fprintf(stderr, "runbook: '%s' is not a run id (YYYYMMDDTHHMMSSZ-xxxx)\n",
                 Printable(run_id).c_str());
    return kExitRefused;
  }
  if (!step.empty() && !IsStepId(step)) {
    std::fprintf(stderr, "runbook: '%s' is not a step id ([a-z0-9][a-z0-9_-]*)\n",
                 Printable(step).c_str());
    return kExitRefused;
  }
  if (!store_url.empty()) return StoreLogs(store_url, run_id, step, follow);
  auto run = FindRun(StateDir(), run_id);
  if (!run) {
    std::fprintf(stderr, "runbook: no run %s\n", run_id.c_str());
    return kExitRefused;
  }
  // The run's directory, runs/, the runbook's directory and the state directory.
  if (Status st = CheckStateDir(run->dir, 3); !st.ok()) {
    std::fprintf(stderr, "runbook: %s\n", st.message().c_str());
    return kExitRefused;
  }
  // A log is a regular file of ours, never followed through a symlink; it is copied in pieces.
  auto print = [](const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0) ::close(fd);
      std::fprintf(stderr, "runbook: %s is not a regular file: not shown\n", path.c_str());
      return false;
    }
    std::fflush(stdout);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
      std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    std::fflush(stdout);
    ::close(fd);
    return true;
  };
  if (follow) {
    auto rs = ReadState(*run);
    if (!rs.ok()) {
      std::fprintf(stderr, "runbook: run %s: %s\n", run_id.c_str(), rs.message().c_str());
      return kExitRefused;
    }
    if (!step.empty() && !KnownStep(*rs, step)) return kExitRefused;
    auto source = FileFollowSource(*run);
    return FollowRun(*source, {step, /*from_start=*/true});
  }
  const std::string logs = run->dir + "/logs";
  if (!step.empty()) {
    const std::string path = logs + "/" + step + ".log";
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "runbook: run %s has no log for step '%s'\n", run_id.c_str(),
                   step.c_str());
      return kExitRefused;
    }
    return print(path) ? kExitOk : kExitRefused;
  }
  // All logs, in the order the steps appear in the runbook.
  auto rs = ReadState(*run);
  if (!rs.ok()) {
    std::fprintf(stderr, "runbook: run %s: %s\n", run_id.c_str(), rs.message().c_str());
    return kExitRefused;
  }
  for (const auto& [id, in_finally] : StepsInOrder(*rs)) {
    if (!IsStepId(id)) continue;  // a journal's ids are data too
    const std::string path = logs + "/" + id + ".log";
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    std::printf("==> %s%s <==\n", id.c_str(), in_finally ? " (finally)" : "");
    std::fflush(stdout);
    print(path);
  }
  return kExitOk;
}

void PrintGuardObservations(const nlohmann::json& saved, const nlohmann::json& now) {
  std::map<std::string, nlohmann::json> now_steps;
  for (const auto& s : now["steps"]) now_steps[s.value("id", "")] = s;
  for (const auto& s : saved["steps"]) {
    auto it = now_steps.find(s.value("id", ""));
    if (it == now_steps.end()) continue;
    if (!s.contains("guards") || !it->second.contains("guards")) continue;
    const auto& then_guards = s["guards"];
    const auto& now_guards = it->second["guards"];
    for (size_t i = 0; i < then_guards.size() && i < now_guards.size(); ++i) {
      const auto& a = then_guards[i];
      const auto& b = now_guards[i];
      if (!a.value("evaluated", false) && !b.value("evaluated", false)) continue;
      std::printf("%s %s %s:\n  in the plan: %s\n  now:         %s\n", s.value("id", "").c_str(),
                  a.value("phase", "").c_str(), a.value("kind", "").c_str(),
                  a.value("summary", "(not evaluated)").c_str(),
                  b.value("summary", "(not evaluated)").c_str());
    }
  }
}

}  // namespace runbook
