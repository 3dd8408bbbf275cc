#include "engine/plan.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "engine/fnv.h"
#include "engine/graph.h"
#include "engine/journal.h"
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

// Average duration of each step's successful runs over the latest runs of this runbook.
std::map<std::string, double> ExpectedSeconds(const std::string& state_dir,
                                              const std::string& name) {
  std::map<std::string, std::pair<double, int>> sums;
  std::vector<RunInfo> runs = ListRuns(state_dir, name);
  const size_t first = runs.size() > 10 ? runs.size() - 10 : 0;
  for (size_t i = first; i < runs.size(); ++i) {
    auto contents = ReadJournal(runs[i].journal);
    if (!contents.ok()) continue;
    for (const nlohmann::json& r : contents->records) {
      if (r.value("type", "") != "step_finished" || r.value("outcome", "") != "success") continue;
      auto& [sum, count] = sums[r.value("step", "")];
      sum += r.value("duration_ms", 0) / 1000.0;
      ++count;
    }
  }
  std::map<std::string, double> out;
  for (const auto& [step, sc] : sums) out[step] = sc.first / sc.second;
  return out;
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
  if (!g.would.empty()) j["would"] = g.would;
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
                      {"would", p.would}};
  if (p.confirm) j["confirm"] = *p.confirm;
  if (p.definition) {
    j["definition"] = p.definition->ToJson();
    j["hash"] = p.hash;
  } else {
    j["error"] = p.error;
  }
  if (p.expected_seconds) j["expected_seconds"] = *p.expected_seconds;
  for (const PlannedGuard& g : p.guards) j["guards"].push_back(GuardJson(g));
  if (p.manual) j["manual"] = *p.manual;
  for (const NameRef& n : s.needs) j["needs"].push_back(n.name);
  if (!p.observed.empty()) j["observed"] = Strings(p.observed);
  if (p.resume) j["resume"] = *p.resume;
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

}  // namespace

std::string FileHash(const std::string& path) {
  // Of the content as a JSON string: what plans held since the first version of the format.
  std::string text;
  if (!ReadFile(path, &text)) return "";
  Fnv1a64 hash;
  hash.Update(nlohmann::json(std::move(text)).dump());
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
  if (auto latest = LatestRun(options.state_dir, rb.name)) {
    auto contents = ReadJournal(latest->journal);
    if (contents.ok()) {
      prior = ReplayJournal(contents->records);
      if (Unfinished(prior)) header.resume_run = latest->run_id;
    }
  }
  const auto expected = ExpectedSeconds(options.state_dir, rb.name);

  // Ssh control sockets and tunnels of the plan live in a private temp dir, removed at the end.
  std::string tmp_template =
      (std::filesystem::temp_directory_path() / "runbook-plan-XXXXXX").string();
  const char* tmp = mkdtemp(tmp_template.data());
  const std::string plan_dir = tmp ? tmp : "";
  std::unique_ptr<RemoteHosts> remote =
      options.offline ? nullptr : MakeSshHosts(plan_dir, processes);

  RunScope scope(&rb, &loaded.params, &*secrets, "<run.id>", "<run.dir>");
  const TemplateScope stable = scope.StableScope();
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
  header.sets = options.sets;
  header.params = loaded.params;

  // Hosts the steps and guards use, and whether each answers.
  std::set<std::string> used_hosts;
  for (const auto* list : {&rb.steps, &rb.finally}) {
    for (const Step& s : *list) used_hosts.insert(StepHost(s, rb));
  }
  for (const std::string& name : used_hosts) {
    const Host* h = rb.FindHost(name);
    PlannedHost& ph = header.hosts.emplace_back();
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

  // What is known before the steps: summed in plan order, as the steps will show them.
  double total_expected = 0;
  bool any_expected = false;
  auto add_expected = [&](const Step& s) {
    auto e = expected.find(s.id);
    if (e == expected.end()) return;
    total_expected += e->second;
    any_expected = true;
  };
  for (int i : graph.order) add_expected(rb.steps[i]);
  for (const Step& s : rb.finally) add_expected(s);
  if (any_expected) header.expected_seconds = total_expected;
  header.level_sizes.assign(graph.LevelCount(), 0);
  for (int level : graph.level) ++header.level_sizes[level];

  bool& blocked = plan.blocked;
  // Which steps would run, as far as the plan knows (not skipped, done, blocked, or skipped by a
  // resume), and in what order. A guard that does not hold now blocks the plan only when no step
  // would run before its step (none it needs, directly or not; for a `finally` step, none at all):
  // a step that runs first may well establish it (stop the sessions, make the backup, apply the
  // migrations). Looked up only for a guard that does not hold, so a plan stays linear.
  std::vector<char> runs(rb.steps.size(), 0);
  std::vector<std::string> planned_runs;  // ids, in plan order
  std::vector<int> plan_position(rb.steps.size(), 0);
  for (size_t k = 0; k < graph.order.size(); ++k)
    plan_position[graph.order[k]] = static_cast<int>(k);
  auto runs_before = [&](const Step& step) {
    if (step.in_finally) return planned_runs;
    std::vector<int> found;
    std::vector<char> seen(rb.steps.size(), 0);
    std::vector<int> todo = graph.deps[&step - rb.steps.data()];
    while (!todo.empty()) {
      const int d = todo.back();
      todo.pop_back();
      if (seen[d]) continue;
      seen[d] = 1;
      if (runs[d]) found.push_back(d);
      todo.insert(todo.end(), graph.deps[d].begin(), graph.deps[d].end());
    }
    std::sort(found.begin(), found.end(),
              [&](int a, int b) { return plan_position[a] < plan_position[b]; });
    std::vector<std::string> ids;
    for (int d : found) ids.push_back(rb.steps[d].id);
    return ids;
  };
  auto plan_step = [&](const Step& step, int level) {
    PlannedStep p;
    p.step = &step;
    p.level = level;
    p.host = &StepHost(step, rb);
    p.timeout = StepTimeout(step, rb);
    p.retries = StepRetries(step, rb);
    auto def = ResolveDefinition(step, rb, stable);
    if (!def.ok()) {
      p.error = def.message();
    } else {
      p.hash = def->Hash();
      p.definition = std::move(def.value());
    }
    // A step context is only needed to render or evaluate something: most steps need none.
    std::optional<StepContext> ctx;
    auto context = [&]() -> StepContext& {
      if (!ctx) ctx.emplace(step, &services);
      return *ctx;
    };
    p.condition = "always";
    if (step.if_expr) {
      if (UsesStepOutcome(*step.if_expr)) {
        p.condition = "decided at run time: " + step.if_expr->raw;
      } else {
        std::map<std::string, std::string> outcomes;
        TemplateScope ts = scope.Scope(&outcomes);
        auto c = EvaluateCondition(*step.if_expr, ts);
        p.condition = !c.ok() ? "error: " + c.message() : (*c ? "true" : "false");
      }
    }
    StepDescription description = step.kind->Describe(context());
    if (p.definition) p.details = std::move(description.details);
    if (!options.offline && p.definition && p.condition != "false") {
      for (const std::string& line : step.kind->Observe(context())) {
        p.observed.push_back(Mask(line, services.redact));
      }
    }
    if (step.confirm) {
      auto t = context().Render(*step.confirm);
      p.confirm = Mask(t.ok() ? *t : step.confirm->raw, services.redact);
    }
    if (description.instructions) p.manual = Mask(*description.instructions, services.redact);
    std::string would = p.condition == "false" ? "skip" : "run";
    bool done = !step.done_when.empty();
    auto eval = [&](const std::vector<Guard>& list, GuardPhase phase) {
      for (const Guard& g : list) {
        PlannedGuard& pg = p.guards.emplace_back();
        pg.phase = phase;
        pg.guard = &g;
        // verify guards describe the state after the step: not evaluated beforehand.
        if (!options.offline && phase != GuardPhase::kVerify && p.condition != "false") {
          GuardResult r = g.kind->Evaluate(context());
          pg.evaluated = true;
          pg.held = r.held;
          pg.summary = Mask(r.summary, services.redact);
          for (const std::string& e : r.evidence) pg.evidence.push_back(Mask(e, services.redact));
          if (phase == GuardPhase::kDoneWhen && !r.held) done = false;
          if (phase == GuardPhase::kGuards && !r.held) {
            std::vector<std::string> before;
            if (!g.wait && g.on_fail != OnFail::kWarn) before = runs_before(step);
            if (g.wait) {
              pg.would = "wait up to " + FormatDuration(*g.wait);
            } else if (!before.empty()) {
              pg.would = "be evaluated again after " + RecentSteps(before);
            } else if (g.on_fail == OnFail::kAbort && would == "run") {
              would = "block";
            } else if (g.on_fail == OnFail::kSkip && would == "run") {
              would = "skip";
            }
          }
        } else if (phase == GuardPhase::kDoneWhen) {
          done = false;
        }
      }
    };
    eval(step.done_when, GuardPhase::kDoneWhen);
    if (done && would == "run") would = "done";
    eval(step.guards, GuardPhase::kGuards);
    eval(step.verify, GuardPhase::kVerify);
    p.would = std::move(would);
    blocked = blocked || p.would == "block";

    if (!header.resume_run.empty() && !step.in_finally) {
      auto it = prior.steps.find(step.id);
      std::string resume = "run";
      if (it != prior.steps.end()) {
        switch (it->second.status) {
          case StepStatus::kSucceeded:
          case StepStatus::kDone:
          case StepStatus::kSkipped:
            resume = "skip: finished (" + it->second.outcome + ")";
            if (p.definition && !it->second.hash.empty() && it->second.hash != p.hash) {
              resume += "; definition changed since";
            }
            break;
          case StepStatus::kRunning:
            resume = step.idempotent ? "run again: was running when the engine stopped (idempotent)"
                                     : "needs confirmation: was running when the engine stopped";
            break;
          default:
            resume = "run: " + it->second.outcome;
        }
      }
      p.resume = std::move(resume);
    }
    if (p.would == "run" && !(p.resume && p.resume->rfind("skip", 0) == 0)) {
      if (!step.in_finally) runs[&step - rb.steps.data()] = 1;
      planned_runs.push_back(step.id);
    }
    auto e = expected.find(step.id);
    if (e != expected.end()) p.expected_seconds = e->second;
    plan.steps.push_back(std::move(p));
  };
  for (int i : graph.order) plan_step(rb.steps[i], graph.level[i]);
  const int finally_level = graph.order.empty() ? 0 : graph.level[graph.order.back()] + 1;
  for (const Step& s : rb.finally) plan_step(s, finally_level);

  if (remote) remote->CloseAll();
  if (!plan_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(plan_dir, ec);
  }
  return plan;
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
  return {{"blocked", plan.blocked},
          {"expected_seconds",
           h.expected_seconds ? nlohmann::json(*h.expected_seconds) : nlohmann::json()},
          {"file_hash", h.file_hash},
          {"format", 1},
          {"hosts", std::move(hosts)},
          {"inventories", Strings(h.inventories)},
          {"offline", h.offline},
          {"params", h.params},
          {"path", h.path},
          {"resume_run", h.resume_run.empty() ? nlohmann::json() : nlohmann::json(h.resume_run)},
          {"runbook", h.runbook},
          {"sets", std::move(sets)},
          {"steps", std::move(steps)}};
}

std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now) {
  std::vector<std::string> diffs;
  if (saved.value("file_hash", "") != now.value("file_hash", "")) {
    diffs.push_back("the runbook file " + now.value("path", "") +
                    " changed since the plan was made");
  }
  const auto& sp = saved["params"];
  const auto& np = now["params"];
  for (const auto& [k, v] : sp.items()) {
    if (!np.contains(k)) {
      diffs.push_back("param '" + k + "' is gone");
    } else if (np[k] != v) {
      diffs.push_back("param '" + k + "': " + v.dump() + " in the plan, " + np[k].dump() + " now");
    }
  }
  for (const auto& [k, v] : np.items()) {
    if (!sp.contains(k)) diffs.push_back("param '" + k + "' is new: " + v.dump());
  }
  std::map<std::string, nlohmann::json> saved_steps, now_steps;
  for (const auto& s : saved["steps"]) saved_steps[s.value("id", "")] = s;
  for (const auto& s : now["steps"]) now_steps[s.value("id", "")] = s;
  for (const auto& [id, s] : saved_steps) {
    auto it = now_steps.find(id);
    if (it == now_steps.end()) {
      diffs.push_back("step '" + id + "' is no longer in the runbook");
      continue;
    }
    if (s.value("hash", "") != it->second.value("hash", "")) {
      std::string d = "step '" + id + "' resolves differently:";
      const auto& a = s["definition"];
      const auto& b = it->second["definition"];
      for (const auto& [k, v] : a.items()) {
        if (!b.contains(k) || b[k] != v) {
          d += " " + k + " was " + v.dump() + ", now " + (b.contains(k) ? b[k].dump() : "unset") +
               ";";
        }
      }
      for (const auto& [k, v] : b.items()) {
        if (!a.contains(k)) d += " " + k + " is new: " + v.dump() + ";";
      }
      diffs.push_back(d);
    }
  }
  for (const auto& [id, s] : now_steps) {
    if (!saved_steps.count(id)) diffs.push_back("step '" + id + "' is new since the plan");
  }
  return diffs;
}

}  // namespace runbook
