// What the engine knows of a step kind (`run`, `sql`, ...) and of a guard kind (`command`,
// `postgres_idle`, ...): the interfaces below, and nothing else.
//
// Each kind lives in steps/<kind>.{h,cc}: how its YAML value is read, what validation checks,
// what its definition holds (what resume and `run --plan` compare), what a plan shows of it and
// what it does. steps/registry.cc lists them; the command line hands that list to the loader
// (LoadOptions::kinds), which asks it for the kind key of each step and guard. From then on a
// step's kind is an object behind StepKind: no code in engine/ names a kind.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

class DefinitionBuilder;  // engine/resolve.h
struct DocNode;           // engine/doc.h
class MapReader;          // engine/reader.h

// What running one step reports to the executor.
struct StepOutcome {
  bool ok = false;
  // One line for the operator: "copied 3703 rows (1.2 MB) in 0.4 s", or why the step failed
  // (possibly several lines, e.g. an SQL error with its caret line).
  std::string message;
};

// What a plan shows of a step beyond its definition.
struct StepDescription {
  std::vector<std::string> details;  // what it would do: the queries, the copies
  // What the operator will be asked to do (a manual step); the plan shows it even when the
  // step's definition cannot be rendered (then unrendered).
  std::optional<std::string> instructions;
};

// Validation of one step's kind or guard, in the context of the whole runbook. The checks report
// into the runbook's diagnostics, with suggestions, like every other field's.
class KindCheck {
 public:
  virtual ~KindCheck() = default;
  virtual const Runbook& runbook() const = 0;
  virtual const Step& step() const = 0;
  // A field whose `${{ }}` may use anything a step can (params, secrets, env, steps, databases).
  virtual void Template(const Text& text) = 0;
  void Template(const std::optional<Text>& text) {
    if (text) Template(*text);
  }
  // A command, named by `what` in errors ("a run command"). As shell text it may hold no
  // `${{ }}` at all (a value reaches a script through `env:`); as an argv each element may, but
  // not a secret, which would show in the process list.
  virtual void CommandLine(const Command& command, std::string_view what) = 0;
  // A field that becomes a statement's text (an identifier, a filter): no secrets, which would
  // show in pg_stat_activity and the server's log; `where` names it in that error ("copy_rows").
  virtual void Statement(const Text& text, std::string_view where) = 0;
  void Statement(const std::optional<Text>& text, std::string_view where) {
    if (text) Statement(*text, where);
  }
  // SQL: a template, where `${{ }}` may only stand for a value (it becomes a bind parameter).
  virtual void Sql(const Text& query) = 0;
  virtual void Database(const NameRef& db) = 0;
  virtual void Host(const NameRef& host) = 0;
  // Reports `message` at `loc` unless this step surely runs after `target` has finished.
  virtual void RunsAfter(const Step& target, const Location& loc, std::string message) = 0;
  virtual void Error(const Location& loc, std::string message) = 0;
};

// A step kind: the value of the step's kind key, and what it does.
class StepKind {
 public:
  virtual ~StepKind() = default;
  // The kind key ("run", "sql", ...).
  virtual const char* Name() const = 0;
  // Checks references and templates (the value's own shape was checked when it was read).
  virtual void Check(KindCheck& check) const = 0;
  // Sets the members of the step's definition (besides "kind").
  virtual void Define(DefinitionBuilder& def) const = 0;
  // What a plan shows: rendered in `env`, a dry run; changes nothing.
  virtual StepDescription Describe(StepEnv& env) const = 0;
  // What the step would act on if it ran now (the queries cancel_queries would cancel), observed
  // read-only, for plans that are not offline; empty for kinds that act on nothing they can see.
  virtual std::vector<std::string> Observe(StepEnv& env) const = 0;
  // Does the step's work once (no guards, no retries: the executor does those).
  virtual StepOutcome Run(StepEnv& env) const = 0;

  // Whether the step's step_started record may become durable while the step sets up rather
  // than before it starts (StepContext::DeferStartSync): true only for a kind that changes
  // nothing before it starts a process through `env` or calls StepEnv::BeforeChanges, and where
  // setting up takes long enough for that to matter (an ssh session, connecting to databases).
  virtual bool SyncsStartWhileSettingUp(bool on_remote_host) const {
    (void)on_remote_host;
    return false;
  }
  // The databases the step connects to through StepEnv::ConnectionPool, once per connection:
  // the run keeps a connection between steps while a later step still wants one.
  virtual std::vector<std::string> PooledDatabases() const { return {}; }
  // The columns of the rows step `step_id` copies whose values this step matches on: that step
  // keeps them with the run for it (StepEnv::MatchedColumns).
  virtual std::vector<std::string> ColumnsMatchedFrom(const std::string& step_id) const {
    (void)step_id;
    return {};
  }
};

// A guard kind: the value of the guard's kind key, and how it is evaluated.
class GuardKind {
 public:
  virtual ~GuardKind() = default;
  virtual const char* Name() const = 0;
  virtual void Check(KindCheck& check) const = 0;
  // Evaluates the guard now, read-only. A guard that cannot be evaluated does not hold.
  virtual GuardResult Evaluate(StepEnv& env) const = 0;
};

// The kinds a loader knows, by kind key (steps/registry.cc). Each parse function reads the
// kind's value, reports every problem into `diags` and returns null when the value is unusable;
// `owner` names the step in messages ("step 'x'").
struct KindRegistry {
  struct StepEntry {
    const char* key;
    std::unique_ptr<StepKind> (*parse)(const DocNode& value, const std::string& owner,
                                       Diagnostics* diags);
  };
  struct GuardEntry {
    const char* key;
    // `guard` is the guard's whole mapping, for the options beside the kind key.
    std::unique_ptr<GuardKind> (*parse)(const MapReader& guard, const DocNode& value,
                                        const std::string& owner, Diagnostics* diags);
    // Whether `host` may sit beside the kind key (guards that run a command somewhere).
    bool host_beside;
  };
  std::vector<StepEntry> steps;  // in the order messages list them
  std::vector<GuardEntry> guards;
};

}  // namespace runbook
