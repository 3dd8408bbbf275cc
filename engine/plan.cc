#include "engine/plan.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "engine/dispatch.h"
#include "engine/fnv.h"
#include "engine/graph.h"
#include "engine/journal.h"
#include "engine/json_writer.h"
#include "engine/read_file.h"
#include "engine/remote_hosts.h"
#include "engine/resolve.h"
#include "engine/run_state.h"
#include "engine/secrets.h"
#include "engine/ssh_hosts.h"
#include "engine/state_dir.h"
#include "engine/step_context.h"
#include "engine/units.h"

namespace runbook {

namespace {

// Plans print nothing while they are built: guard commands' output is evidence, not a stream.
class SilentReporter : public Reporter {
 public:
  void RunStarted(const std::string&, const std::string&, int, DryRun) override {}
  void StepStarted(const std::string&, int, int) override {}
  void StepLine(const std::string&, Stream, std::string_view) override {}
  void GuardEvaluated(const std::string&, GuardPhase, const char*, const GuardResult&) override {}
  void Waiting(const std::string&, const std::string&, double) override {}
  void StepFinished(const StepSummary&) override {}
  void Notice(const std::string&) override {}
  void RunFinished(const std::vector<StepSummary>&, int) override {}
};

const char* OnFailName(OnFail f) {
  switch (f) {
    case OnFail::kAbort: return "abort";
    case OnFail::kSkip: return "skip";
    case OnFail::kWarn: return "warn";
  }
  return "abort";
}

bool UsesStepOutcome(const Text& text) { return text.raw.find("steps.") != std::string::npos; }

// Average duration of each step's successful runs over the latest runs of this runbook.
std::map<std::string, double> ExpectedSeconds(const std::string& state_dir, const std::string& name) {
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

nlohmann::json GuardJson(const Guard& g, GuardPhase phase) {
  nlohmann::json j = {{"phase", GuardPhaseName(phase)},
                      {"kind", GuardKindName(g.kind)},
                      {"on_fail", OnFailName(g.on_fail)},
                      {"evaluated", false}};
  if (g.wait) j["wait"] = FormatDuration(*g.wait);
  return j;
}

}  // namespace

std::string FileHash(const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text)) return "";
  // The hash of the content as a JSON string, DefinitionHash(nlohmann::json(text)), computed
  // piecewise: a JSON copy of a 30 MB runbook would be 60 MB more at the peak.
  if (!IsAscii(text)) return DefinitionHash(nlohmann::json(std::move(text)));
  constexpr size_t kChunk = 1 << 16;
  Fnv1a64 hash;
  std::string escaped;
  hash.Update("\"");
  for (size_t at = 0; at < text.size(); at += kChunk) {
    escaped.clear();
    AppendJsonEscapedAscii(&escaped, std::string_view(text).substr(at, kChunk));
    hash.Update(escaped);
  }
  hash.Update("\"");
  return hash.Hex();
}

Result<nlohmann::json> BuildPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                                 ProcessRunner* processes) {
  const Runbook& rb = loaded.runbook;
  auto secrets = LoadSecrets(rb);
  if (!secrets.ok()) return Result<nlohmann::json>::Error(secrets.message());
  Diagnostics graph_diags;
  auto graph = BuildGraph(rb, &graph_diags);
  if (!graph.ok()) return Result<nlohmann::json>::Error(graph.message());

  // The latest unfinished run: what a resume would skip.
  RunState prior;
  std::string resume_run;
  if (auto latest = LatestRun(options.state_dir, rb.name)) {
    auto contents = ReadJournal(latest->journal);
    if (contents.ok()) {
      prior = ReplayJournal(contents->records);
      if (Unfinished(prior)) resume_run = latest->run_id;
    }
  }
  const auto expected = ExpectedSeconds(options.state_dir, rb.name);

  // Ssh control sockets and tunnels of the plan live in a private temp dir, removed at the end.
  std::string tmp_template = (std::filesystem::temp_directory_path() / "runbook-plan-XXXXXX").string();
  const char* tmp = mkdtemp(tmp_template.data());
  const std::string plan_dir = tmp ? tmp : "";
  std::unique_ptr<RemoteHosts> remote = options.offline ? nullptr : MakeSshHosts(plan_dir, processes);

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

  nlohmann::json plan;
  plan["format"] = 1;
  plan["runbook"] = rb.name;
  plan["path"] = rb.path;
  plan["file_hash"] = FileHash(rb.path);
  plan["offline"] = options.offline;
  plan["inventories"] = options.inventories;
  plan["sets"] = options.sets;
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [k, v] : loaded.params) params[k] = v;
  plan["params"] = params;
  plan["resume_run"] = resume_run.empty() ? nlohmann::json(nullptr) : nlohmann::json(resume_run);

  // Hosts the steps and guards use, and whether each answers.
  std::set<std::string> used_hosts;
  for (const auto* list : {&rb.steps, &rb.finally}) {
    for (const Step& s : *list) used_hosts.insert(StepHost(s, rb));
  }
  nlohmann::json hosts = nlohmann::json::array();
  for (const std::string& name : used_hosts) {
    const Host* h = rb.FindHost(name);
    nlohmann::json hj = {{"name", name}, {"local", !h || h->local}};
    if (h && !h->local) {
      hj["ssh"] = h->ssh;
      if (remote) {
        Status st = remote->CheckReachable(*h);
        hj["reachable"] = st.ok();
        if (!st.ok()) hj["message"] = st.message();
      }
    }
    hosts.push_back(hj);
  }
  plan["hosts"] = hosts;

  nlohmann::json steps = nlohmann::json::array();
  double total_expected = 0;
  bool any_expected = false;
  auto plan_step = [&](const Step& step, int level) {
    nlohmann::json j;
    j["id"] = step.id;
    j["kind"] = StepKindName(step.kind);
    j["description"] = step.description;
    j["finally"] = step.in_finally;
    j["level"] = level;
    nlohmann::json needs = nlohmann::json::array();
    for (const NameRef& n : step.needs) needs.push_back(n.name);
    j["needs"] = needs;
    j["host"] = StepHost(step, rb);
    j["idempotent"] = step.idempotent;
    j["timeout"] = FormatDuration(StepTimeout(step, rb));
    j["retries"] = StepRetries(step, rb);
    auto def = StepDefinition(step, rb, scope.StableScope());
    if (!def.ok()) {
      j["error"] = def.message();
    } else {
      j["definition"] = *def;
      j["hash"] = DefinitionHash(*def);
    }
    StepContext ctx(step, &services);
    std::map<std::string, std::string> outcomes;
    TemplateScope ts = scope.Scope(&outcomes);
    std::string condition = "always";
    if (step.if_expr) {
      if (UsesStepOutcome(*step.if_expr)) {
        condition = "decided at run time: " + step.if_expr->raw;
      } else {
        auto c = EvaluateCondition(*step.if_expr, ts);
        condition = !c.ok() ? "error: " + c.message() : (*c ? "true" : "false");
      }
    }
    j["condition"] = condition;
    j["details"] = def.ok() ? DescribeStepKind(step, ctx) : std::vector<std::string>{};
    if (step.confirm) {
      auto t = ctx.Render(*step.confirm);
      j["confirm"] = Mask(t.ok() ? *t : step.confirm->raw, services.redact);
    }
    if (const auto* m = std::get_if<ManualStep>(&step.kind)) {
      auto t = ctx.Render(m->text);
      j["manual"] = Mask(t.ok() ? *t : m->text.raw, services.redact);
    }
    nlohmann::json guards = nlohmann::json::array();
    std::string would = condition == "false" ? "skip" : "run";
    bool done = !step.done_when.empty();
    auto eval = [&](const std::vector<Guard>& list, GuardPhase phase) {
      for (const Guard& g : list) {
        nlohmann::json gj = GuardJson(g, phase);
        // verify guards describe the state after the step: not evaluated beforehand.
        if (!options.offline && phase != GuardPhase::kVerify && condition != "false") {
          GuardResult r = EvaluateGuard(g, ctx);
          gj["evaluated"] = true;
          gj["held"] = r.held;
          gj["summary"] = Mask(r.summary, services.redact);
          std::vector<std::string> evidence;
          for (const std::string& e : r.evidence) evidence.push_back(Mask(e, services.redact));
          gj["evidence"] = evidence;
          if (phase == GuardPhase::kDoneWhen && !r.held) done = false;
          if (phase == GuardPhase::kGuards && !r.held) {
            if (g.wait) {
              gj["would"] = "wait up to " + FormatDuration(*g.wait);
            } else if (g.on_fail == OnFail::kAbort && would == "run") {
              would = "block";
            } else if (g.on_fail == OnFail::kSkip && would == "run") {
              would = "skip";
            }
          }
        } else if (phase == GuardPhase::kDoneWhen) {
          done = false;
        }
        guards.push_back(gj);
      }
    };
    eval(step.done_when, GuardPhase::kDoneWhen);
    if (done && would == "run") would = "done";
    eval(step.guards, GuardPhase::kGuards);
    eval(step.verify, GuardPhase::kVerify);
    j["guards"] = guards;
    j["would"] = would;

    if (!resume_run.empty() && !step.in_finally) {
      auto it = prior.steps.find(step.id);
      std::string resume = "run";
      if (it != prior.steps.end()) {
        switch (it->second.status) {
          case StepStatus::kSucceeded:
          case StepStatus::kDone:
          case StepStatus::kSkipped:
            resume = "skip: finished (" + it->second.outcome + ")";
            if (def.ok() && !it->second.hash.empty() && it->second.hash != j["hash"]) {
              resume += "; definition changed since";
            }
            break;
          case StepStatus::kRunning:
            resume = step.idempotent
                         ? "run again: was running when the engine stopped (idempotent)"
                         : "needs confirmation: was running when the engine stopped";
            break;
          default:
            resume = "run: " + it->second.outcome;
        }
      }
      j["resume"] = resume;
    }
    auto e = expected.find(step.id);
    if (e != expected.end()) {
      j["expected_seconds"] = e->second;
      total_expected += e->second;
      any_expected = true;
    }
    steps.push_back(std::move(j));
  };
  for (int i : graph->order) plan_step(rb.steps[i], graph->level[i]);
  const int finally_level = graph->order.empty() ? 0 : graph->level[graph->order.back()] + 1;
  for (const Step& s : rb.finally) plan_step(s, finally_level);
  plan["steps"] = std::move(steps);
  plan["expected_seconds"] = any_expected ? nlohmann::json(total_expected) : nlohmann::json(nullptr);
  plan["blocked"] = PlanBlocked(plan);

  if (remote) remote->CloseAll();
  if (!plan_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(plan_dir, ec);
  }
  return plan;
}

bool PlanBlocked(const nlohmann::json& plan) {
  for (const auto& s : plan["steps"]) {
    if (s.value("would", "") == "block") return true;
  }
  return false;
}

std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now) {
  std::vector<std::string> diffs;
  if (saved.value("file_hash", "") != now.value("file_hash", "")) {
    diffs.push_back("the runbook file " + now.value("path", "") + " changed since the plan was made");
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
          d += " " + k + " was " + v.dump() + ", now " + (b.contains(k) ? b[k].dump() : "unset") + ";";
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
