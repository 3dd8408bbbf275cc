// The preview of a run (`runbook plan`, `runbook run --dry-run`): what would run, in which order
// and parallel levels, each command as it would be run (secrets as ***), every guard evaluated
// live but read-only, the confirmations that will be asked, what a resume would skip, and the
// expected duration from earlier runs. Building a plan changes nothing anywhere: no journal is
// written, no step runs, database guards run in read-only transactions.
//
// A plan is produced as a stream (StreamPlan into a PlanSink): the header, then one step at a
// time, so its memory does not grow with the number of steps (a 100k-step plan is 77 MB of
// JSON). A plan saved with `--out` is JSON (schemas/plan.schema.json, PlanJsonWriter) holding no
// secret value; `run --plan` compares it with a fresh plan and refuses on any difference
// (ComparePlans).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/loader.h"
#include "engine/process.h"
#include "engine/resolve.h"
#include "engine/run_state.h"

namespace runbook {

struct PlanOptions {
  std::string state_dir;
  bool offline = false;  // evaluate no guard, check no host
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  // The runbook file's FileHash when the caller has it already (computed on another thread
  // while the runbook loaded: 60 ms for 100k steps); empty: StreamPlan computes it.
  std::string file_hash;
};

// A host that steps use ("hosts" in the JSON).
struct PlannedHost {
  std::string name;
  bool local = true;
  std::string ssh;                // ssh hosts only
  std::optional<bool> reachable;  // ssh hosts, unless offline
  std::string message;            // why it is unreachable
};

// Everything in a plan but its steps.
struct PlanHeader {
  std::string runbook;
  std::string path;
  std::string file_hash;
  bool offline = false;
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  ParamValues params;
  std::vector<PlannedHost> hosts;
  std::string resume_run;                  // the unfinished run a resume would continue, or ""
  std::optional<double> expected_seconds;  // from earlier runs; unset when no step has one
  // Whether the run would be blocked, when that is known before the steps: offline no guard is
  // evaluated, so never. Otherwise unset, and PlanSink::End tells.
  std::optional<bool> blocked;
  // The number of steps (not finally steps) at each level.
  std::vector<int> level_sizes;
};

struct PlannedGuard {
  GuardPhase phase = GuardPhase::kGuards;
  const Guard* guard = nullptr;
  bool evaluated = false;
  // Evaluated guards only: the observation, secrets masked.
  bool held = false;
  std::string summary;
  std::vector<std::string> evidence;
  std::string would;  // "wait up to 5m" for a guard with `wait` that does not hold, else ""
};

struct PlannedStep {
  const Step* step = nullptr;
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
  std::vector<PlannedGuard> guards;   // done_when, guards, verify
  std::string would;                  // "run", "skip", "block" or "done"
  std::optional<std::string> resume;  // what a resume would do, when there is an unfinished run
  std::optional<double> expected_seconds;
};

// Receives a plan: Begin, then Step for each step in plan order (the topological order of the
// steps, then the finally steps), then End.
class PlanSink {
 public:
  virtual ~PlanSink() = default;
  virtual void Begin(const PlanHeader& header) = 0;
  virtual void Step(const PlannedStep& step) = 0;
  virtual void End(bool blocked) = 0;
};

// Builds the plan into `sink`. Fails, before anything reaches the sink, only when the runbook
// cannot be resolved (e.g. a secret is missing): the message says what. Otherwise returns
// whether the run would be blocked (exit 3): some guard with on_fail: abort and no `wait` does
// not hold on a step that no other step would run before (none of the steps it needs, directly
// or not, would run; for a `finally` step, no step at all). A guard after steps that would run
// is shown as not holding now and "would be evaluated again after ..." instead: those steps may
// establish it (stop the sessions, make the backup, apply the migrations), as a `wait` may.
Result<bool> StreamPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                        ProcessRunner* processes, PlanSink* sink);

// Writes the plan as JSON text, laid out as nlohmann::json::dump(2) lays out the same document
// (`runbook plan --format json` prints it, `--out` saves it), followed by a newline. `write`
// receives the text in consecutive pieces, a step at a time when the header's `blocked` is known
// (it comes first); otherwise the steps are kept until End.
class PlanJsonWriter : public PlanSink {
 public:
  explicit PlanJsonWriter(std::function<void(std::string_view)> write);
  void Begin(const PlanHeader& header) override;
  void Step(const PlannedStep& step) override;
  void End(bool blocked) override;

 private:
  void WriteHeader(bool blocked);

  std::function<void(std::string_view)> write_;
  PlanHeader header_;  // kept only while the steps are held back
  bool streaming_ = false;
  size_t steps_ = 0;
  std::string held_;  // steps' text, until End, when `blocked` was not known at Begin
  std::string buf_;
};

// The plan as a JSON document: the text PlanJsonWriter writes, parsed (for `run --plan`).
Result<nlohmann::json> BuildPlan(const LoadedRunbook& loaded, const PlanOptions& options,
                                 ProcessRunner* processes);

// The differences between a saved plan and a fresh one that make `run --plan` refuse: the
// runbook file, params, the step list and each step's resolved definition. Empty when equal.
std::vector<std::string> ComparePlans(const nlohmann::json& saved, const nlohmann::json& now);

// Hash of a file's content (for detecting an edited runbook); empty when unreadable.
std::string FileHash(const std::string& path);

}  // namespace runbook
