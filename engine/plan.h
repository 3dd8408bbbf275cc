// The preview of a run (`runbook plan`, `runbook run --dry-run`): what would run, in which order
// and parallel levels, each command as it would be run (secrets as ***), every guard evaluated
// live but read-only, the confirmations that will be asked, what a resume would skip, and the
// expected duration from earlier runs. Building a plan changes nothing anywhere: no journal is
// written, no step runs, database guards run in read-only transactions.
//
// BuildPlan makes the plan as data; PlanToJson gives its JSON form (schemas/plan.schema.json),
// which `plan --format json` prints and `--out` saves, holding no secret value; `run --plan`
// compares a saved plan with a fresh one and refuses on any difference (engine/saved_plan.h). The
// text form is the terminal's (cli/plan_text.h).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/decide.h"
#include "engine/downtime.h"
#include "engine/expectations.h"
#include "engine/loader.h"
#include "engine/pg_store.h"
#include "engine/process.h"
#include "engine/resolve.h"
#include "engine/run_state.h"
#include "engine/step_selection.h"

namespace runbook {

struct PlanOptions {
  std::string state_dir;
  bool offline = false;  // evaluate no guard, check no host or database
  // As `run --resume` / `run --fresh` would: with an unfinished run, the plan of its resume, or of
  // a new run. Neither: an unfinished run makes the verdict "refused", as `run` would be.
  bool resume = false;
  bool fresh = false;
  // --only / --from / --rerun, checked (CheckSelection): the plan is of the run that runs just
  // those; the steps left out are shown as not chosen, their guards not evaluated.
  StepSelection selection;
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  // The runbook's earlier runs, for expected durations: the team's store's when it has one
  // (EarlierRunsInStore); unset: those of `state_dir`.
  EarlierRuns earlier;
  // The team's store, when there is one: its run lock and a run left unfinished there refuse a
  // run as this state directory's do.
  std::shared_ptr<PgStore> store;
};

// A host that steps use ("hosts" in the JSON).
struct PlannedHost {
  std::string name;
  bool local = true;
  std::string ssh;                // ssh hosts only
  std::optional<bool> reachable;  // ssh hosts, unless offline
  std::string message;            // why it is unreachable
};

// The runbook's `downtime:` window as a plan shows it.
struct PlannedWindow {
  std::string from, to;
  std::vector<std::string> steps;       // inside the window, in plan order (engine/downtime.h)
  std::vector<std::string> not_chosen;  // of `steps`, those the selection leaves out
  ExpectedDowntime expected;            // from earlier runs
};

// A database the steps use ("databases" in the JSON): its resolved conninfo, and whether its
// server answers (a ping, which needs no login), unless offline.
struct PlannedDatabase {
  std::string name;
  // keyword=value text, the password and any secret value as *** (engine/pg_conninfo.h); empty
  // when it does not resolve (then `message` says why).
  std::string conninfo;
  bool password = false;  // a `password:` is configured (it is not part of the conninfo)
  std::string tunnel;     // the ssh host it is reached through, or ""
  std::optional<bool> reachable;
  std::string message;    // why it is unreachable or does not resolve
  std::string locked_by;  // who holds the run's lock on its server now (engine/target_lock.h)
};

// What `run` would do with this plan, and the plan's exit code: start (0), stop at a guard or an
// unreachable host or database server (blocked, 3), or refuse to start (4: the run lock is
// held, here, in the state store or on a database server, or an unfinished run exists and
// neither --resume nor --fresh was given).
enum class PlanVerdict { kStart, kBlocked, kRefused };

struct PlanHeader {
  std::string runbook;
  std::string path;
  std::string file_hash;
  bool offline = false;
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  ParamValues params;
  const Runbook* declared = nullptr;  // the runbook planned, for its params' types
  std::vector<PlannedHost> hosts;
  std::vector<PlannedDatabase> databases;
  std::string resume_run;                  // the unfinished run a resume would continue, or ""
  StepSelection selection;                 // the steps chosen; empty: every step
  std::optional<double> expected_seconds;  // from earlier runs; unset when no step has one
  // The number of steps (not finally steps) at each level.
  std::vector<int> level_sizes;
  std::optional<PlannedWindow> downtime;
};

struct PlannedGuard {
  GuardPhase phase = GuardPhase::kGuards;
  const Guard* guard = nullptr;
  bool evaluated = false;
  // Evaluated guards only: the observation, secrets masked.
  bool held = false;
  std::string summary;
  std::vector<std::string> evidence;
  GuardDecision decision = GuardDecision::kNotEvaluated;  // `guards` only
  std::vector<std::string> again_after;  // kAgainLater: the steps that run before, in plan order
};

struct PlannedStep {
  const Step* step = nullptr;
  // Whether the selection (--only, --from, --rerun) lets it run; finally steps always. A step
  // not chosen does not run: nothing of it is evaluated but its `if:`, and it counts for nothing.
  bool chosen = true;
  bool rerun = false;  // --rerun: it runs again although it finished in the run resumed
  // Its needs the selection leaves out and that have not succeeded in the run resumed: it runs
  // anyway, as the run says before anything runs (LeftOutNeedText).
  std::vector<std::string> needs_left_out;
  int level = 0;
  const std::string* host = nullptr;  // the effective host
  Duration timeout{};
  int retries = 0;
  std::optional<StepDefinition> definition;  // unset when it cannot be rendered: see `error`
  std::string error;
  std::string hash;  // of the definition
  // "always", "true", "false", "decided at run time: EXPR" or "error: MESSAGE".
  std::string condition;
  std::vector<std::string> details;  // what the step kind would do (queries, copies)
  // What it would act on if it ran now (the queries cancel_queries would cancel), secrets masked;
  // like a guard's observation, not part of what `run --plan` compares. Empty offline.
  std::vector<std::string> observed;
  std::optional<std::string> confirm;
  std::optional<std::string> manual;
  std::vector<PlannedGuard> guards;  // done_when, guards, verify
  StepDecision decision = StepDecision::kRun;
  // When there is an unfinished run: what a resume would do, and the step's outcome in that run
  // (unset when it has none) and whether its definition changed since.
  std::optional<ResumeDecision> resume;
  std::optional<std::string> earlier_outcome;
  bool definition_changed = false;
  std::optional<double> expected_seconds;
  bool in_window = false;  // inside the downtime window
};

// A whole plan: the header, the steps in plan order (the topological order of the steps, then
// the finally steps), and whether the run would be blocked (exit 3).
struct Plan {
  PlanHeader header;
  std::vector<PlannedStep> steps;
  bool blocked = false;  // a guard would block the run
  PlanVerdict verdict = PlanVerdict::kStart;
  std::vector<std::string> reasons;  // why it would not start (blocked or refused), in words
};

// "start", "blocked", "refused": the verdict's name in the JSON.
const char* VerdictName(PlanVerdict verdict);

// Builds the plan. Fails only when the runbook cannot be resolved (e.g. a secret is missing): the
// message says what. The run would be blocked when some guard with on_fail: abort and no `wait`
// does not hold on a step that no other step would run before (none of the steps it needs,
// directly or not, would run; for a `finally` step, no step at all). A guard after steps that
// would run is shown as not holding now and "would be evaluated again after ..." instead: those
// steps may establish it (stop the sessions, make the backup, apply the migrations), as a `wait`
// may.
Result<Plan> BuildPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                       ProcessRunner* processes);

// The decisions as plans show them: "run", "skip", "block" or "done" ("not_chosen" for a step
// the selection leaves out, StepWould); for a guard that does not
// hold, "wait up to 5m" or "be evaluated again after a, b and c" (else ""); what a resume would
// do ("skip: finished (success)", "run again: ...", ...).
const char* WouldName(StepDecision decision);
const char* StepWould(const PlannedStep& step);
std::string GuardWould(const PlannedGuard& guard);
std::string ResumeText(const PlannedStep& step);

// The plan as a JSON document (schemas/plan.schema.json); `dump(2)` is its text.
nlohmann::json PlanToJson(const Plan& plan);

// Hash of a file's content (for detecting an edited runbook); empty when unreadable.
std::string FileHash(const std::string& path);

}  // namespace runbook
