#include "engine/plan.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "engine/decide.h"
#include "engine/expectations.h"
#include "engine/fnv.h"
#include "engine/graph.h"
#include "engine/journal.h"
#include "engine/lock.h"
#include "engine/params.h"
#include "engine/pg_conninfo.h"
#include "engine/pg_ping.h"
#include "engine/printable.h"
#include "engine/read_file.h"
#include "engine/remote_hosts.h"
#include "engine/reporter.h"
#include "engine/resolve.h"
#include "engine/run_state.h"
#include "engine/secrets.h"
#include "engine/ssh_hosts.h"
#include "engine/state_dir.h"
#include "engine/step_context.h"
#include "engine/step_kind.h"
#include "engine/step_selection.h"
#include "engine/target_lock.h"
#include "engine/units.h"

namespace runbook {

namespace {

const char* OnFailName(OnFail f) {
  switch (f) {
    case OnFail::kAbort:
      return "abort";
    case OnFail::kSkip:
      return "skip";
    case OnFail::kWarn:
      return "warn";
  }
  return "abort";
}

bool UsesStepOutcome(const Text& text) {
  return text.raw.find("steps.") != std::string::npos;
}

nlohmann::json Strings(const std::vector<std::string>& items) {
  return nlohmann::json(items);
}

nlohmann::json GuardJson(const PlannedGuard& g) {
  nlohmann::json j = {{"evaluated", g.evaluated},
                      {"kind", g.guard->kind->Name()},
                      {"on_fail", OnFailName(g.guard->on_fail)},
                      {"phase", GuardPhaseName(g.phase)}};
  if (g.evaluated) {
    j["evidence"] = Strings(g.evidence);
    j["held"] = g.held;
    j["summary"] = g.summary;
  }
  if (g.guard->wait) j["wait"] = FormatDuration(*g.guard->wait);
  const std::string would = GuardWould(g);
  if (!would.empty()) j["would"] = would;
  return j;
}

nlohmann::json StepJson(const PlannedStep& p) {
  const Step& s = *p.step;
  nlohmann::json j = {{"condition", p.condition},
                      {"description", s.description},
                      {"details", Strings(p.details)},
                      {"finally", s.in_finally},
                      {"guards", nlohmann::json::array()},
                      {"host", *p.host},
                      {"id", s.id},
                      {"idempotent", s.idempotent},
                      {"kind", s.kind->Name()},
                      {"level", p.level},
                      {"needs", nlohmann::json::array()},
                      {"retries", p.retries},
                      {"timeout", FormatDuration(p.timeout)},
                      {"chosen", p.chosen},
                      {"would", StepWould(p)}};
  if (p.rerun) j["rerun"] = true;
  if (!p.needs_left_out.empty()) j["needs_left_out"] = Strings(p.needs_left_out);
  if (p.confirm) j["confirm"] = *p.confirm;
  if (p.definition) {
    j["definition"] = p.definition->ToJson();
    j["hash"] = p.hash;
  } else {
    j["error"] = p.error;
  }
  if (p.expected_seconds) j["expected_seconds"] = *p.expected_seconds;
  if (p.in_window) j["in_window"] = true;
  for (const PlannedGuard& g : p.guards) j["guards"].push_back(GuardJson(g));
  if (p.manual) j["manual"] = *p.manual;
  for (const NameRef& n : s.needs) j["needs"].push_back(n.name);
  if (!p.observed.empty()) j["observed"] = Strings(p.observed);
  if (p.resume) j["resume"] = ResumeText(p);
  return j;
}

// "a, b and c" of the last (nearest) three steps of `ids`, "..., a, b and c" when there are more.
std::string RecentSteps(const std::vector<std::string>& ids) {
  const size_t first = ids.size() > 3 ? ids.size() - 3 : 0;
  std::string out = first > 0 ? "..., " : "";
  for (size_t i = first; i < ids.size(); ++i) {
    if (i > first) out += i + 1 == ids.size() ? " and " : ", ";
    out += ids[i];
  }
  return out;
}

// Hosts the steps use, and whether each answers (`remote` null: offline, not checked).
std::vector<PlannedHost> PlanHosts(const Runbook& rb, RemoteHosts* remote) {
  std::set<std::string> used;
  for (const auto* list : {&rb.steps, &rb.finally}) {
    for (const Step& s : *list) used.insert(StepHost(s, rb));
  }
  std::vector<PlannedHost> hosts;
  for (const std::string& name : used) {
    const Host* h = rb.FindHost(name);
    PlannedHost& ph = hosts.emplace_back();
    ph.name = name;
    ph.local = !h || h->local;
    if (h && !h->local) {
      ph.ssh = h->ssh;
      if (remote) {
        Status st = remote->CheckReachable(*h);
        ph.reachable = st.ok();
        if (!st.ok()) ph.message = st.message();
      }
    }
  }
  return hosts;
}

// Each database the steps use: its conninfo as resolved, and unless offline whether its server
// answers (a ping: the role or the database may be created by a step before anything connects
// with them).
std::vector<PlannedDatabase> PlanDatabases(const Runbook& rb, const RunServices& services,
                                           const RunScope& scope, bool offline) {
  std::map<std::string, std::string> outcomes;
  const TemplateScope templates = scope.Scope(&outcomes);
  std::vector<PlannedDatabase> out;
  for (const std::string& name : UsedDatabases(rb)) {
    PlannedDatabase& d = out.emplace_back();
    d.name = name;
    if (const Database* db = rb.FindDatabase(name)) {
      auto conninfo = ResolveConninfo(db->conninfo, templates);
      if (conninfo.ok()) {
        d.conninfo = conninfo->display;
      } else {
        d.message = conninfo.message();
      }
      d.password = db->password.has_value();
      if (db->tunnel) d.tunnel = db->tunnel->name;
    }
    if (offline) continue;
    auto target = ResolveDatabase(services, templates, NameRef{name, {}});
    if (!target.ok()) {
      d.reachable = false;
      d.message = target.message();
      continue;
    }
    const Status ping = PingServer(*target);
    d.reachable = ping.ok();
    if (!ping.ok()) {
      d.message = ping.message();
      continue;
    }
    if (auto holder = ProbeTargetLock(rb.LockName(), *target, "runbook/plan")) {
      d.locked_by = holder->Describe();
    }
  }
  return out;
}

// The verdict: refused when a run would be (the run lock, or locks shared through `lock:`, held;
// an unfinished run without --resume or --fresh); else blocked when a guard would block or a host
// or database server does not answer; else start.
void Judge(const Runbook& rb, const PlanOptions& options, Plan* plan) {
  for (const std::string* name : {&rb.name, &rb.lock}) {
    if (name->empty() || (name == &rb.lock && *name == rb.name)) continue;
    auto holder = ProbeRunLock(LockPath(options.state_dir, *name));
    if (!holder.ok()) {
      plan->reasons.push_back(holder.message());
    } else if (*holder) {
      plan->reasons.push_back("the lock '" + *name + "' is held by " + (*holder)->Describe());
    }
  }
  if (options.store) {
    auto holder = options.store->RunLockHolder(rb.LockName());
    if (!holder.ok()) {
      plan->reasons.push_back(holder.message());
    } else if (*holder) {
      plan->reasons.push_back("the lock '" + rb.LockName() + "' is held in the state store by " +
                              (*holder)->Describe());
    }
    auto other = options.resume || options.fresh
                     ? Result<std::optional<RunState>>(std::optional<RunState>())
                     : options.store->UnfinishedRun(rb.name);
    if (!other.ok()) {
      plan->reasons.push_back(other.message());
    } else if (*other && (*other)->run_id != plan->header.resume_run) {
      const RunState& o = **other;
      plan->reasons.push_back("run " + o.run_id + ", started by " +
                              Printable(OperatorName(o.user, o.host)) +
                              ", is unfinished in the state store: `runbook resume " + o.run_id +
                              "` continues it, `run --fresh` starts anew");
    }
  }
  for (const PlannedDatabase& d : plan->header.databases) {
    if (!d.locked_by.empty()) {
      plan->reasons.push_back("the lock '" + rb.LockName() + "' on the server of database " +
                              d.name + " is held by " + d.locked_by);
    }
  }
  if (!plan->header.resume_run.empty() && !options.resume) {
    plan->reasons.push_back("run " + plan->header.resume_run +
                            " is unfinished: `run --resume` continues it, `run --fresh` starts "
                            "anew (plan --resume or --fresh shows either)");
  }
  if (!plan->reasons.empty()) {
    plan->verdict = PlanVerdict::kRefused;
    return;
  }
  for (const PlannedHost& h : plan->header.hosts) {
    if (h.reachable && !*h.reachable) {
      plan->reasons.push_back("host " + h.name + " is unreachable: " + h.message);
    }
  }
  for (const PlannedDatabase& d : plan->header.databases) {
    if (d.reachable && !*d.reachable) {
      plan->reasons.push_back("database " + d.name + ": " + d.message);
    }
  }
  if (plan->blocked) plan->reasons.push_back("a guard would block the run");
  if (!plan->reasons.empty()) plan->verdict = PlanVerdict::kBlocked;
}

// Plans the steps one at a time, in plan order.
class Planner {
 public:
  Planner(const LoadedRunbook& loaded, const PlanOptions& options, const RunScope& scope,
          RunServices* services, const RunState& prior, bool resuming)
      : rb_(loaded.runbook),
        graph_(loaded.graph),
        options_(options),
        scope_(scope),
        stable_(scope.StableScope()),
        services_(services),
        prior_(prior),
        resuming_(resuming),
        selected_(SelectedSteps(rb_, graph_, options.selection)),
        runs_(rb_.steps.size(), 0),
        position_(rb_.steps.size(), 0) {
    for (size_t k = 0; k < graph_.order.size(); ++k) {
      position_[graph_.order[k]] = static_cast<int>(k);
    }
  }

  PlannedStep Plan(const Step& step, int level);

 private:
  // The step's context, made when something of it must be rendered or evaluated (most steps
  // need none).
  StepContext& Context(const Step& step) {
    if (!ctx_) ctx_.emplace(step, services_);
    return *ctx_;
  }
  std::string Mask(const std::string& text) const { return runbook::Mask(text, services_->redact); }
  void Condition(const Step& step, PlannedStep& p, StepFacts& facts);
  void Describe(const Step& step, PlannedStep& p);
  std::vector<GuardFact> Guards(const Step& step, const std::vector<Guard>& guards,
                                GuardPhase phase, bool evaluate, PlannedStep& p);
  void Resume(const Step& step, PlannedStep& p);
  bool FinishedEarlier(const Step& step) const;
  std::vector<std::string> NeedsLeftOut(const Step& step) const;
  std::vector<std::string> RunsBefore(const Step& step) const;

  const Runbook& rb_;
  const Graph& graph_;
  const PlanOptions& options_;
  const RunScope& scope_;
  const TemplateScope stable_;
  RunServices* services_;
  const RunState& prior_;
  const bool resuming_;
  std::optional<StepContext> ctx_;
  const std::vector<bool> selected_;  // per step: --only / --from / --rerun let it run
  // Which steps would run, as far as the plan knows (not skipped, done, blocked, or skipped by a
  // resume), and in what order: a guard that does not hold now blocks the plan only when no step
  // would run before its step (none it needs, directly or not; for a `finally` step, none at
  // all), as a step that runs first may well establish it (stop the sessions, make the backup,
  // apply the migrations).
  std::vector<char> runs_;
  std::vector<std::string> planned_runs_;  // ids, in plan order
  std::vector<int> position_;              // of each step in the plan order
};

PlannedStep Planner::Plan(const Step& step, int level) {
  ctx_.reset();
  PlannedStep p;
  p.step = &step;
  p.level = level;
  p.host = &StepHost(step, rb_);
  p.timeout = StepTimeout(step, rb_);
  p.retries = StepRetries(step, rb_);
  p.chosen = step.in_finally || selected_[&step - rb_.steps.data()];
  // A finally step needing a step left out is skipped, as the run skips it (the need did not
  // succeed in this run).
  if (step.in_finally) p.needs_left_out = NeedsLeftOut(step);
  auto def = ResolveDefinition(step, rb_, stable_);
  if (!def.ok()) {
    p.error = def.message();
  } else {
    p.hash = def->Hash();
    p.definition = std::move(def.value());
  }
  StepFacts facts;
  Condition(step, p, facts);
  Describe(step, p);
  // verify guards describe the state after the step: not evaluated beforehand. A step the
  // selection leaves out does not run: its guards are not the run's business.
  const bool evaluate =
      p.chosen && p.needs_left_out.empty() && !options_.offline && facts.condition != false;
  facts.done_when = Guards(step, step.done_when, GuardPhase::kDoneWhen, evaluate, p);
  facts.guards = Guards(step, step.guards, GuardPhase::kGuards, evaluate, p);
  Guards(step, step.verify, GuardPhase::kVerify, false, p);
  p.decision = p.needs_left_out.empty() ? DecideStep(facts) : StepDecision::kSkipCondition;
  Resume(step, p);
  if (p.chosen && !step.in_finally && p.resume != ResumeDecision::kFinishedEarlier) {
    p.needs_left_out = NeedsLeftOut(step);
  }
  if (p.chosen && p.decision == StepDecision::kRun &&
      p.resume != ResumeDecision::kFinishedEarlier) {
    if (!step.in_finally) runs_[&step - rb_.steps.data()] = 1;
    planned_runs_.push_back(step.id);
  }
  return p;
}

void Planner::Condition(const Step& step, PlannedStep& p, StepFacts& facts) {
  p.condition = "always";
  if (!step.if_expr) return;
  if (UsesStepOutcome(*step.if_expr)) {
    p.condition = "decided at run time: " + step.if_expr->raw;
    return;
  }
  std::map<std::string, std::string> outcomes;
  TemplateScope ts = scope_.Scope(&outcomes);
  auto c = EvaluateCondition(*step.if_expr, ts);
  if (!c.ok()) {
    p.condition = "error: " + c.message();
    return;
  }
  p.condition = *c ? "true" : "false";
  facts.condition = *c;
}

void Planner::Describe(const Step& step, PlannedStep& p) {
  StepDescription description = step.kind->Describe(Context(step));
  if (p.definition) p.details = std::move(description.details);
  if (p.chosen && !options_.offline && p.definition && p.condition != "false") {
    for (const std::string& line : step.kind->Observe(Context(step))) {
      p.observed.push_back(Mask(line));
    }
  }
  if (step.confirm) {
    auto t = Context(step).Render(*step.confirm);
    p.confirm = Mask(t.ok() ? *t : step.confirm->raw);
  }
  if (description.instructions) p.manual = Mask(*description.instructions);
}

std::vector<GuardFact> Planner::Guards(const Step& step, const std::vector<Guard>& guards,
                                       GuardPhase phase, bool evaluate, PlannedStep& p) {
  std::vector<GuardFact> facts;
  for (const Guard& g : guards) {
    PlannedGuard& pg = p.guards.emplace_back();
    pg.phase = phase;
    pg.guard = &g;
    GuardFact& fact = facts.emplace_back();
    fact.on_fail = g.on_fail;
    if (!evaluate) continue;
    GuardResult r = g.kind->Evaluate(Context(step));
    pg.evaluated = fact.evaluated = true;
    pg.held = fact.held = r.held;
    pg.summary = Mask(r.summary);
    for (const std::string& e : r.evidence) pg.evidence.push_back(Mask(e));
    if (phase != GuardPhase::kGuards) continue;
    if (!r.held) {
      fact.may_wait = g.wait.has_value();
      if (!fact.may_wait && g.on_fail != OnFail::kWarn) {
        pg.again_after = RunsBefore(step);
        fact.others_run_first = !pg.again_after.empty();
      }
    }
    pg.decision = DecideGuard(fact);
  }
  return facts;
}

void Planner::Resume(const Step& step, PlannedStep& p) {
  if (!resuming_ || step.in_finally) return;
  auto it = prior_.steps.find(step.id);
  const StepState* earlier = it == prior_.steps.end() ? nullptr : &it->second;
  p.resume = DecideResume(earlier, step.idempotent);
  // --rerun: the operator runs a finished step again on purpose (as the executor does).
  const auto& rerun = options_.selection.rerun;
  if (p.resume == ResumeDecision::kFinishedEarlier &&
      std::find(rerun.begin(), rerun.end(), step.id) != rerun.end()) {
    p.resume = ResumeDecision::kRun;
    p.rerun = true;
  }
  if (!earlier) return;
  p.earlier_outcome = earlier->outcome;
  p.definition_changed = p.definition && !earlier->hash.empty() && earlier->hash != p.hash;
}

bool Planner::FinishedEarlier(const Step& step) const {
  if (!resuming_) return false;
  auto it = prior_.steps.find(step.id);
  return it != prior_.steps.end() &&
         DecideResume(&it->second, step.idempotent) == ResumeDecision::kFinishedEarlier;
}

// As the executor names them before anything runs: direct needs not chosen and not finished in
// the run resumed (a --rerun step is chosen).
std::vector<std::string> Planner::NeedsLeftOut(const Step& step) const {
  std::vector<std::string> ids;
  for (const NameRef& need : step.needs) {
    for (size_t d = 0; d < rb_.steps.size(); ++d) {
      if (rb_.steps[d].id == need.name && !selected_[d] && !FinishedEarlier(rb_.steps[d])) {
        ids.push_back(need.name);
      }
    }
  }
  return ids;
}

std::vector<std::string> Planner::RunsBefore(const Step& step) const {
  if (step.in_finally) return planned_runs_;
  std::vector<int> found;
  std::vector<char> seen(rb_.steps.size(), 0);
  std::vector<int> todo = graph_.deps[&step - rb_.steps.data()];
  while (!todo.empty()) {
    const int d = todo.back();
    todo.pop_back();
    if (seen[d]) continue;
    seen[d] = 1;
    if (runs_[d]) found.push_back(d);
    todo.insert(todo.end(), graph_.deps[d].begin(), graph_.deps[d].end());
  }
  std::sort(found.begin(), found.end(), [&](int a, int b) { return position_[a] < position_[b]; });
  std::vector<std::string> ids;
  for (int d : found) ids.push_back(rb_.steps[d].id);
  return ids;
}

// Sums what earlier runs took of the steps the selection lets run, as the steps show them.
std::optional<double> TotalExpected(const std::vector<PlannedStep>& steps) {
  std::optional<double> total;
  for (const PlannedStep& p : steps) {
    const bool skipped_finally = p.step->in_finally && !p.needs_left_out.empty();
    if (p.chosen && !skipped_finally && p.expected_seconds) {
      total = total.value_or(0) + *p.expected_seconds;
    }
  }
  return total;
}

}  // namespace

std::string FileHash(const std::string& path) {
  // Of the content as a JSON string: what plans held since the first version of the format.
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return "";
  Fnv1a64 hash;
  hash.Update(nlohmann::json(std::move(text).value()).dump());
  return hash.Hex();
}

Result<Plan> BuildPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                       ProcessRunner* processes) {
  const Runbook& rb = loaded.runbook;
  auto secrets = LoadSecrets(rb);
  if (!secrets.ok()) return Result<Plan>::Error(secrets.message());
  const Graph& graph = loaded.graph;  // built by validation

  // The latest unfinished run: what a resume would skip.
  RunState prior;
  Plan plan;
  PlanHeader& header = plan.header;
  std::optional<RunInfo> latest;
  if (!options.fresh) latest = LatestRun(options.state_dir, rb.name);
  if (latest) {
    auto contents = ReadJournal(latest->journal);
    if (contents.ok()) {
      prior = ReplayJournal(contents->records);
      if (Unfinished(prior)) header.resume_run = latest->run_id;
    }
  }
  const EarlierRuns earlier =
      options.earlier ? options.earlier : EarlierRunsIn(options.state_dir, rb.name);
  const auto expected = ExpectStepSeconds(earlier);

  // Ssh control sockets and tunnels of the plan live in a private temp dir, removed at the end.
  std::string tmp_template =
      (std::filesystem::temp_directory_path() / "runbook-plan-XXXXXX").string();
  const char* tmp = mkdtemp(tmp_template.data());
  const std::string plan_dir = tmp ? tmp : "";
  std::unique_ptr<RemoteHosts> remote =
      options.offline ? nullptr : MakeSshHosts(plan_dir, processes);

  RunScope scope(&rb, &loaded.params, &*secrets, "<run.id>", "<run.dir>");
  SilentReporter silent;
  RunData data;
  RunServices services;
  services.scope = &scope;
  services.processes = processes;
  services.reporter = &silent;
  services.data = &data;
  services.remote = remote.get();
  services.dry_run = DryRun::kYes;
  services.redact = RedactionList(*secrets);

  header.runbook = rb.name;
  header.path = rb.path;
  header.file_hash = FileHash(rb.path);
  header.offline = options.offline;
  header.inventories = options.inventories;
  header.selection = options.selection;
  header.sets = options.sets;
  header.params = loaded.params;
  header.declared = &rb;
  header.hosts = PlanHosts(rb, remote.get());
  header.databases = PlanDatabases(rb, services, scope, options.offline);
  header.level_sizes.assign(graph.LevelCount(), 0);
  for (int level : graph.level) ++header.level_sizes[level];
  std::set<const Step*> in_window;
  if (rb.downtime) {
    PlannedWindow& w = header.downtime.emplace();
    w.from = rb.downtime->from.name;
    w.to = rb.downtime->to.name;
    for (const Step* s : WindowSteps(rb, graph)) {
      w.steps.push_back(s->id);
      in_window.insert(s);
    }
    w.expected = ExpectWindow(earlier, rb.downtime->from.name, rb.downtime->to.name);
  }

  Planner planner(loaded, options, scope, &services, prior, !header.resume_run.empty());
  auto add = [&](const Step& step, int level) {
    PlannedStep& p = plan.steps.emplace_back(planner.Plan(step, level));
    auto e = expected.find(step.id);
    if (e != expected.end()) p.expected_seconds = e->second;
    p.in_window = in_window.count(&step) > 0;
    plan.blocked = plan.blocked || p.decision == StepDecision::kBlocked;
  };
  for (int i : graph.order) add(rb.steps[i], graph.level[i]);
  const int finally_level = graph.order.empty() ? 0 : graph.level[graph.order.back()] + 1;
  for (const Step& s : rb.finally) add(s, finally_level);
  header.expected_seconds = TotalExpected(plan.steps);
  if (header.downtime) {
    for (const PlannedStep& p : plan.steps) {
      if (p.in_window && !p.chosen && p.resume != ResumeDecision::kFinishedEarlier) {
        header.downtime->not_chosen.push_back(p.step->id);
      }
    }
  }

  if (remote) remote->CloseAll();
  Judge(rb, options, &plan);
  if (!plan_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(plan_dir, ec);
  }
  return plan;
}

const char* VerdictName(PlanVerdict verdict) {
  switch (verdict) {
    case PlanVerdict::kStart:
      return "start";
    case PlanVerdict::kBlocked:
      return "blocked";
    case PlanVerdict::kRefused:
      return "refused";
  }
  return "start";
}

const char* StepWould(const PlannedStep& step) {
  return step.chosen ? WouldName(step.decision) : "not_chosen";
}

const char* WouldName(StepDecision decision) {
  switch (decision) {
    case StepDecision::kRun:
      return "run";
    case StepDecision::kSkipCondition:
    case StepDecision::kSkipGuard:
      return "skip";
    case StepDecision::kDone:
      return "done";
    case StepDecision::kBlocked:
      return "block";
  }
  return "run";
}

std::string GuardWould(const PlannedGuard& guard) {
  switch (guard.decision) {
    case GuardDecision::kWait:
      return "wait up to " + FormatDuration(*guard.guard->wait);
    case GuardDecision::kAgainLater:
      return "be evaluated again after " + RecentSteps(guard.again_after);
    case GuardDecision::kHolds:
    case GuardDecision::kNotEvaluated:
    case GuardDecision::kBlock:
    case GuardDecision::kSkip:
    case GuardDecision::kWarn:
      return "";
  }
  return "";
}

std::string ResumeText(const PlannedStep& step) {
  const std::string outcome = step.earlier_outcome.value_or("");
  switch (step.resume.value_or(ResumeDecision::kRun)) {
    case ResumeDecision::kFinishedEarlier:
      return "skip: finished (" + outcome + ")" +
             (step.definition_changed ? "; definition changed since" : "");
    case ResumeDecision::kRunAgain:
      return "run again: was running when the engine stopped (idempotent)";
    case ResumeDecision::kNeedsAnswer:
      return "needs confirmation: was running when the engine stopped";
    case ResumeDecision::kRun:
      break;
  }
  if (step.rerun) return "run again (--rerun): finished (" + outcome + ")";
  return step.earlier_outcome ? "run: " + outcome : "run";
}

nlohmann::json PlanToJson(const Plan& plan) {
  const PlanHeader& h = plan.header;
  nlohmann::json hosts = nlohmann::json::array();
  for (const PlannedHost& host : h.hosts) {
    nlohmann::json j = {{"local", host.local}, {"name", host.name}};
    if (host.reachable && !*host.reachable) j["message"] = host.message;
    if (host.reachable) j["reachable"] = *host.reachable;
    if (!host.local) j["ssh"] = host.ssh;
    hosts.push_back(std::move(j));
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const PlannedStep& p : plan.steps) steps.push_back(StepJson(p));
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& [k, v] : h.sets) sets.push_back(nlohmann::json::array({k, v}));
  nlohmann::json databases = nlohmann::json::array();
  for (const PlannedDatabase& d : h.databases) {
    nlohmann::json j = {{"name", d.name}, {"password", d.password}};
    if (!d.conninfo.empty()) j["conninfo"] = d.conninfo;
    if (!d.tunnel.empty()) j["tunnel"] = d.tunnel;
    if (d.reachable) j["reachable"] = *d.reachable;
    if (!d.message.empty()) j["message"] = d.message;
    if (!d.locked_by.empty()) j["locked_by"] = d.locked_by;
    databases.push_back(std::move(j));
  }
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, value] : h.params) {
    const Param* declared = h.declared ? h.declared->FindParam(name) : nullptr;
    params[name] = declared ? ParamJson(declared->type, value) : nlohmann::json(value);
  }
  nlohmann::json downtime;  // null without a window
  if (h.downtime) {
    const PlannedWindow& w = *h.downtime;
    downtime = {{"from", w.from},
                {"to", w.to},
                {"steps", Strings(w.steps)},
                {"expected_seconds",
                 w.expected.seconds ? nlohmann::json(*w.expected.seconds) : nlohmann::json()},
                {"measured_runs", w.expected.runs},
                {"not_chosen", Strings(w.not_chosen)}};
  }
  const StepSelection& sel = h.selection;
  nlohmann::json selection = {
      {"only", Strings(sel.only)},
      {"from", sel.from.empty() ? nlohmann::json() : nlohmann::json(sel.from)},
      {"rerun", Strings(sel.rerun)}};
  return {{"blocked", plan.blocked},
          {"databases", std::move(databases)},
          {"downtime", std::move(downtime)},
          {"expected_seconds",
           h.expected_seconds ? nlohmann::json(*h.expected_seconds) : nlohmann::json()},
          {"file_hash", h.file_hash},
          {"format", 1},
          {"hosts", std::move(hosts)},
          {"inventories", Strings(h.inventories)},
          {"offline", h.offline},
          {"params", std::move(params)},
          {"path", h.path},
          {"resume_run", h.resume_run.empty() ? nlohmann::json() : nlohmann::json(h.resume_run)},
          {"runbook", h.runbook},
          {"selection", std::move(selection)},
          {"sets", std::move(sets)},
          {"steps", std::move(steps)},
          {"verdict", VerdictName(plan.verdict)},
          {"reasons", Strings(plan.reasons)}};
}

}  // namespace runbook
