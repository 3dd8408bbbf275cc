#include "engine/run_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace runbook {
namespace {

using nlohmann::json;

constexpr std::pair<StepOutcomeKind, const char*> kStepOutcomes[] = {
    {StepOutcomeKind::kSuccess, "success"},
    {StepOutcomeKind::kFailure, "failure"},
    {StepOutcomeKind::kSkipped, "skipped"},
    {StepOutcomeKind::kDone, "done"},
    {StepOutcomeKind::kInterrupted, "interrupted"},
    {StepOutcomeKind::kTimedOut, "timed_out"},
    {StepOutcomeKind::kBlocked, "blocked"},
    {StepOutcomeKind::kNotRun, "not_run"},
    {StepOutcomeKind::kAlreadyDone, "already_done"},
    {StepOutcomeKind::kNotSelected, "not_selected"},
};
constexpr std::pair<RunOutcome, const char*> kRunOutcomes[] = {
    {RunOutcome::kSuccess, "success"},
    {RunOutcome::kFailure, "failure"},
    {RunOutcome::kBlocked, "blocked"},
    {RunOutcome::kInterrupted, "interrupted"},
};

// Total accessors: a missing field or one of another type reads as empty, so a record written by
// a different version never makes replay throw.
std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::optional<int64_t> Int(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}
bool Bool(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}
std::vector<std::string> StrList(const json& o, const char* key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}
std::vector<std::pair<std::string, std::string>> Pairs(const json& o, const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = o.find(key);
  if (it == o.end() || !it->is_array()) return out;
  for (const json& kv : *it) {
    if (kv.is_array() && kv.size() == 2 && kv[0].is_string() && kv[1].is_string()) {
      out.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
    }
  }
  return out;
}
json PairsJson(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json out = json::array();
  for (const auto& [k, v] : pairs) out.push_back(json::array({k, v}));
  return out;
}
std::map<std::string, std::vector<std::string>> Needs(const json& o) {
  std::map<std::string, std::vector<std::string>> out;
  auto it = o.find("step_needs");
  if (it == o.end() || !it->is_object()) return out;
  for (const auto& [id, list] : it->items()) {
    std::vector<std::string>& into = out[id];
    if (!list.is_array()) continue;
    for (const json& n : list) {
      if (n.is_string()) into.push_back(n.get<std::string>());
    }
  }
  return out;
}
std::map<std::string, std::string> Params(const json& o) {
  std::map<std::string, std::string> out;
  auto it = o.find("params");
  if (it == o.end() || !it->is_object()) return out;
  for (const auto& [name, value] : it->items()) {
    // Params are journaled as strings; anything else is shown as its JSON text.
    out[name] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

StepStatus StatusOf(const std::string& outcome) {
  std::optional<StepOutcomeKind> parsed = ParseStepOutcome(outcome);
  if (!parsed) return StepStatus::kFailed;  // an outcome we cannot read never counts as success
  switch (*parsed) {
    case StepOutcomeKind::kSuccess:
      return StepStatus::kSucceeded;
    case StepOutcomeKind::kFailure:
      return StepStatus::kFailed;
    case StepOutcomeKind::kTimedOut:
      return StepStatus::kFailed;
    case StepOutcomeKind::kSkipped:
      return StepStatus::kSkipped;
    case StepOutcomeKind::kDone:
      return StepStatus::kDone;
    case StepOutcomeKind::kInterrupted:
      return StepStatus::kInterrupted;
    case StepOutcomeKind::kBlocked:
      return StepStatus::kBlocked;
    case StepOutcomeKind::kNotRun:
    case StepOutcomeKind::kNotSelected:
      return StepStatus::kPending;
    case StepOutcomeKind::kAlreadyDone:
      return StepStatus::kSucceeded;
  }
  return StepStatus::kFailed;
}

}  // namespace

json SelectionJson(const StepSelection& selection) {
  json r = json::object();
  if (!selection.only.empty()) r["only"] = selection.only;
  if (!selection.from.empty()) r["from"] = selection.from;
  if (!selection.rerun.empty()) r["rerun"] = selection.rerun;
  return r;
}

StepSelection SelectionOf(const json& record) {
  return StepSelection{StrList(record, "only"), Str(record, "from"), StrList(record, "rerun")};
}

const char* StepOutcomeName(StepOutcomeKind outcome) {
  for (const auto& [o, name] : kStepOutcomes) {
    if (o == outcome) return name;
  }
  return "failure";
}

std::optional<StepOutcomeKind> ParseStepOutcome(std::string_view name) {
  for (const auto& [o, n] : kStepOutcomes) {
    if (name == n) return o;
  }
  return std::nullopt;
}

const char* RunOutcomeName(RunOutcome outcome) {
  for (const auto& [o, name] : kRunOutcomes) {
    if (o == outcome) return name;
  }
  return "failure";
}

std::optional<RunOutcome> ParseRunOutcome(std::string_view name) {
  for (const auto& [o, n] : kRunOutcomes) {
    if (name == n) return o;
  }
  return std::nullopt;
}

const char* GuardPhaseName(GuardPhase phase) {
  switch (phase) {
    case GuardPhase::kGuards:
      return "guards";
    case GuardPhase::kDoneWhen:
      return "done_when";
    case GuardPhase::kVerify:
      return "verify";
  }
  return "guards";
}

const char* StepStatusName(StepStatus status) {
  switch (status) {
    case StepStatus::kPending:
      return "pending";
    case StepStatus::kRunning:
      return "running";
    case StepStatus::kSucceeded:
      return "succeeded";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
    case StepStatus::kDone:
      return "done";
    case StepStatus::kInterrupted:
      return "interrupted";
    case StepStatus::kBlocked:
      return "blocked";
  }
  return "pending";
}

json RunStartedRecord(const RunStartedInfo& info) {
  json r{{"type", "run_started"},
         {"run_id", info.run_id},
         {"runbook", info.runbook},
         {"path", info.path},
         {"inventories", info.inventories},
         {"sets", PairsJson(info.sets)},
         {"params", info.params},
         {"step_ids", info.step_ids},
         {"pid", info.pid},
         {"user", info.user},
         {"host", info.host},
         {"boot_id", info.boot_id},
         {"finally_ids", info.finally_ids},
         {"step_needs", info.step_needs}};
  r.update(SelectionJson(info.selection));
  if (info.downtime)
    r["downtime"] = {{"from", info.downtime->first}, {"to", info.downtime->second}};
  return r;
}

json RunResumedRecord(const RunResumedInfo& info) {
  json r{{"type", "run_resumed"},
         {"pid", info.pid},
         {"user", info.user},
         {"host", info.host},
         {"boot_id", info.boot_id},
         {"step_ids", info.step_ids},
         {"finally_ids", info.finally_ids},
         {"step_needs", info.step_needs}};
  r.update(SelectionJson(info.selection));
  if (info.inventories) r["inventories"] = *info.inventories;
  if (info.sets) r["sets"] = PairsJson(*info.sets);
  if (info.params) r["params"] = *info.params;
  if (!info.renamed.empty()) {
    json renamed = json::object();
    for (const auto& [old_id, new_id] : info.renamed) renamed[old_id] = new_id;
    r["renamed"] = renamed;
  }
  return r;
}

json StepStartedRecord(const std::string& step, int attempt, const std::string& hash) {
  return json{{"type", "step_started"}, {"step", step}, {"attempt", attempt}, {"hash", hash}};
}

json StepProcessRecord(const std::string& step, int pgid, const std::string& boot_id,
                       const std::string& host) {
  json r{{"type", "step_process"}, {"step", step}, {"pgid", pgid}, {"boot_id", boot_id}};
  if (!host.empty()) r["host"] = host;
  return r;
}

json StepFinishedRecord(const StepFinishedInfo& info) {
  json r{{"type", "step_finished"},
         {"step", info.step},
         {"outcome", StepOutcomeName(info.outcome)},
         {"attempt", info.attempt},
         {"duration_ms", info.duration_ms}};
  if (info.exit_code) r["exit_code"] = *info.exit_code;
  if (info.signal) r["signal"] = *info.signal;
  if (!info.message.empty()) r["message"] = info.message;
  return r;
}

json GuardRecord(const std::string& step, GuardPhase phase, const std::string& kind, bool held,
                 const std::string& summary, const std::vector<std::string>& evidence) {
  return json{{"type", "guard"},     {"step", step}, {"phase", GuardPhaseName(phase)},
              {"kind", kind},        {"held", held}, {"summary", summary},
              {"evidence", evidence}};
}

json StepDataRecord(const std::string& step, const std::string& key, const std::string& value) {
  return json{{"type", "step_data"}, {"step", step}, {"key", key}, {"value", value}};
}

json RunFinishedRecord(RunOutcome outcome, int exit_code) {
  return json{
      {"type", "run_finished"}, {"outcome", RunOutcomeName(outcome)}, {"exit_code", exit_code}};
}

const char* AnsweredByName(AnsweredBy by) {
  return by == AnsweredBy::kYes ? "yes" : "terminal";
}

json ConfirmationRecord(const std::string& step, bool confirmed, int64_t waited_ms, AnsweredBy by) {
  return json{{"type", "confirmation"},
              {"step", step},
              {"confirmed", confirmed},
              {"waited_ms", waited_ms},
              {"by", AnsweredByName(by)}};
}

json DowntimeRecord(const std::string& from, const std::string& to, const std::string& opened,
                    const std::string& closed, int64_t duration_ms) {
  return json{{"type", "downtime"}, {"from", from},     {"to", to},
              {"opened", opened},   {"closed", closed}, {"duration_ms", duration_ms}};
}

RunState ReplayJournal(const std::vector<json>& records) {
  RunState run;
  // Steps whose last record was step_finished: their next guard or step_started record begins a
  // new attempt, whose checks replace the old ones. (Guards are journaled before step_started.)
  std::map<std::string, bool> attempt_over;
  auto new_attempt = [&](const std::string& id, StepState& s) {
    if (attempt_over[id]) s.guards.clear();
    attempt_over[id] = false;
  };
  for (const json& r : records) {
    if (!r.is_object()) continue;
    const std::string type = Str(r, "type");
    const std::string ts = Str(r, "ts");
    if (!ts.empty()) run.last_ts = ts;
    if (type == "run_started") {
      run.run_id = Str(r, "run_id");
      run.runbook = Str(r, "runbook");
      run.path = Str(r, "path");
      run.inventories = StrList(r, "inventories");
      run.sets = Pairs(r, "sets");
      run.params = Params(r);
      run.step_ids = StrList(r, "step_ids");
      run.finally_ids = StrList(r, "finally_ids");
      run.step_needs = Needs(r);
      for (const std::string& id : run.step_ids) run.steps[id];
      for (const std::string& id : run.finally_ids) run.steps[id];
      run.started_at = ts;
      run.pid = static_cast<int>(Int(r, "pid").value_or(0));
      run.user = Str(r, "user");
      run.host = Str(r, "host");
      run.boot_id = Str(r, "boot_id");
      run.sessions.push_back({ts, run.user, run.host, run.pid, SelectionOf(r), "", {}});
      if (auto it = r.find("downtime"); it != r.end() && it->is_object()) {
        run.downtime = WindowState{Str(*it, "from"), Str(*it, "to"), "", "", std::nullopt};
      }
    } else if (type == "run_resumed") {
      run.pid = static_cast<int>(Int(r, "pid").value_or(0));
      run.user = Str(r, "user");
      run.host = Str(r, "host");
      run.boot_id = Str(r, "boot_id");
      Session session{ts, run.user, run.host, run.pid, SelectionOf(r), "", {}};
      // What this resume ran with, when it was given other inventories or --set values.
      if (r.contains("inventories")) {
        run.inventories = StrList(r, "inventories");
        for (const std::string& i : run.inventories) session.changed_options += " -i " + i;
      }
      if (r.contains("sets")) {
        run.sets = Pairs(r, "sets");
        for (const auto& [k, v] : run.sets) session.changed_options += " --set " + k + "=" + v;
      }
      if (!session.changed_options.empty()) session.changed_options.erase(0, 1);
      if (r.contains("params")) run.params = Params(r);
      // The runbook as this resume found it: a finished step found under a new id takes its
      // state along (resume_changes.h).
      if (auto it = r.find("renamed"); it != r.end() && it->is_object()) {
        for (const auto& [old_id, new_id] : it->items()) {
          if (!new_id.is_string() || !run.steps.count(old_id)) continue;
          run.steps[new_id.get<std::string>()] = run.steps[old_id];
          run.steps.erase(old_id);
          session.renamed.emplace_back(old_id, new_id.get<std::string>());
        }
      }
      if (r.contains("step_ids")) {
        run.step_ids = StrList(r, "step_ids");
        run.finally_ids = StrList(r, "finally_ids");
        run.step_needs = Needs(r);
        for (const auto* ids : {&run.step_ids, &run.finally_ids}) {
          for (const std::string& id : *ids) run.steps[id];
        }
      }
      run.sessions.push_back(std::move(session));
      ++run.resumes;
      run.finished = false;
      run.outcome.clear();
      run.exit_code = 0;
      run.ended_at.clear();
    } else if (type == "step_started") {
      const std::string id = Str(r, "step");
      StepState& s = run.steps[id];
      new_attempt(id, s);
      s.status = StepStatus::kRunning;
      s.hash = Str(r, "hash");
      s.attempts = std::max(s.attempts, static_cast<int>(Int(r, "attempt").value_or(1)));
      s.pgid = 0;
      s.boot_id.clear();
      s.pgid_host.clear();
      s.started_at = ts;
      s.message.clear();
      s.exit_code.reset();
      s.signal.reset();
      if (run.downtime && run.downtime->from == id && run.downtime->opened_at.empty()) {
        run.downtime->opened_at = ts;
      }
    } else if (type == "step_process") {
      StepState& s = run.steps[Str(r, "step")];
      s.pgid = static_cast<int>(Int(r, "pgid").value_or(0));
      s.boot_id = Str(r, "boot_id");
      s.pgid_host = Str(r, "host");
    } else if (type == "step_finished") {
      const std::string id = Str(r, "step");
      StepState& s = run.steps[id];
      attempt_over[id] = true;
      s.outcome = Str(r, "outcome");
      s.status = StatusOf(s.outcome);
      s.attempts = std::max(s.attempts, static_cast<int>(Int(r, "attempt").value_or(1)));
      s.duration_ms = Int(r, "duration_ms").value_or(0);
      s.message = Str(r, "message");
      std::optional<int64_t> code = Int(r, "exit_code");
      std::optional<int64_t> sig = Int(r, "signal");
      s.exit_code = code ? std::optional<int>(static_cast<int>(*code)) : std::nullopt;
      s.signal = sig ? std::optional<int>(static_cast<int>(*sig)) : std::nullopt;
      s.finished_at = ts;
    } else if (type == "guard") {
      const std::string id = Str(r, "step");
      StepState& s = run.steps[id];
      new_attempt(id, s);
      s.guards.push_back({Str(r, "phase"), Str(r, "kind"), Bool(r, "held"), Str(r, "summary"),
                          StrList(r, "evidence"), ts});
    } else if (type == "step_data") {
      run.steps[Str(r, "step")].data[Str(r, "key")] = Str(r, "value");
    } else if (type == "confirmation") {
      run.answers.push_back({Str(r, "step"), ts, Bool(r, "confirmed"), Str(r, "by"),
                             Int(r, "waited_ms").value_or(0)});
    } else if (type == "downtime") {
      if (!run.downtime) run.downtime.emplace();
      run.downtime->from = Str(r, "from");
      run.downtime->to = Str(r, "to");
      run.downtime->opened_at = Str(r, "opened");
      run.downtime->closed_at = Str(r, "closed");
      run.downtime->duration_ms = Int(r, "duration_ms");
    } else if (type == "run_finished") {
      run.finished = true;
      run.outcome = Str(r, "outcome");
      run.exit_code = static_cast<int>(Int(r, "exit_code").value_or(1));
      run.ended_at = ts;
    }
  }
  if (run.finally_ids.empty()) {  // a journal from before finally_ids: every other step recorded
    for (const auto& [id, state] : run.steps) {
      if (std::find(run.step_ids.begin(), run.step_ids.end(), id) == run.step_ids.end()) {
        run.finally_ids.push_back(id);
      }
    }
  }
  return run;
}

bool Crashed(const RunState& run) {
  return !run.finished;
}

std::string OperatorName(const std::string& user, const std::string& host) {
  if (user.empty() && host.empty()) return "?";
  return (user.empty() ? "?" : user) + "@" + host;
}

bool Unfinished(const RunState& run) {
  return !run.finished || run.outcome != "success";
}

std::vector<std::string> StepsWithStatus(const RunState& run, StepStatus status) {
  std::vector<std::string> out;
  for (const auto* ids : {&run.step_ids, &run.finally_ids}) {
    for (const std::string& id : *ids) {
      auto it = run.steps.find(id);
      if (it != run.steps.end() && it->second.status == status) out.push_back(id);
    }
  }
  return out;
}

}  // namespace runbook
