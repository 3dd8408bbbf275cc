// What a step kind or guard kind implementation (steps/*.cc) gets from the executor.
//
// Step and guard code never touches the journal, the terminal or the template scope directly:
// it renders its fields, writes lines, reaches databases and processes through this interface.
// The executor provides the real one; unit tests provide a recording fake.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/cancel.h"
#include "engine/diag.h"
#include "engine/model.h"
#include "engine/output.h"
#include "engine/pg_conninfo.h"
#include "engine/process.h"

namespace runbook {

class PgPool;

// A query with `${{ ... }}` replaced by $1, $2, ... and the values to bind.
struct SqlText {
  std::string query;                // what the server receives
  std::vector<std::string> params;  // bind values, in order
  std::string display;  // for plans and logs: the query with values shown, secrets "***"
};

// A database reference resolved for connecting. `password` is empty when none is configured.
struct DbTarget {
  std::string name;
  Conninfo conninfo;        // resolved keyword by keyword (engine/pg_conninfo.h)
  std::string password;     // secret: never print, log or journal
  std::string tunnel_host;  // empty: direct
};

enum class DryRun { kNo, kYes };

// Values a command gets beyond the step's own: environment variables (set after the step's env)
// and arguments (after an argv's words; a shell script's $1, $2, ...).
struct CommandInputs {
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> args;
};

class StepEnv {
 public:
  virtual ~StepEnv() = default;

  virtual const std::string& step_id() const = 0;
  virtual const std::string& run_id() const = 0;
  // kYes in `plan` / `run --dry-run`: only read-only work (guards in read-only transactions).
  virtual DryRun dry_run() const = 0;

  // Renders a field of this step (plain text: no quoting; secrets allowed).
  virtual Result<std::string> Render(const Text& text) = 0;
  // Renders a field as it is shown (plans, dry runs, messages): every secret's value as ***.
  // What the engine says is built from these, so it never needs masking.
  virtual Result<std::string> RenderShown(const Text& text) = 0;
  // Renders a field that becomes SQL: each `${{ ... }}` becomes a bind parameter.
  virtual Result<SqlText> RenderSql(const Text& text) = 0;

  virtual Result<DbTarget> Database(const NameRef& db) = 0;
  // Runs a process on `host` (a host name of the runbook; "local" runs here, others over ssh),
  // with the step's user applied when `as_step_user` is set. Output goes to `out`.
  virtual ProcessResult RunOn(const std::string& host, const ProcessSpec& spec,
                              OutputSink* out) = 0;
  // Runs a `run:`-style command the way the step runs: on the step's host (or `host` when set),
  // as the step's user, in its cwd, with its env and secrets, within its timeout. An argv's
  // templates are rendered, each word one argument; a shell script runs as written (validate
  // refuses `${{ }}` in it). `inputs` are values the command gets as data, never as code.
  virtual ProcessResult RunCommand(const Command& command, const std::optional<NameRef>& host,
                                   OutputSink* out, const CommandInputs& inputs) = 0;
  ProcessResult RunCommand(const Command& command, const std::optional<NameRef>& host,
                           OutputSink* out) {
    return RunCommand(command, host, out, CommandInputs{});
  }
  // True when a command for `host` (default: the step's) would run on this machine as this
  // process's user (a local host, no `user:`): work such as listing files can then be done here.
  virtual bool RunsHere(const std::optional<NameRef>& host) const = 0;

  // Asks the operator to confirm `text` (a `confirm:` or a `manual` step). True when confirmed
  // (or --yes); false when declined; an error when nobody can answer (no terminal, no --yes).
  virtual Result<bool> AskOperator(const std::string& text) = 0;
  // True when --yes answers the questions (nobody is asked).
  virtual bool AnswersWithYes() const = 0;

  virtual OutputSink& Out() = 0;
  virtual const CancelToken& Cancel() const = 0;
  // When the step's `timeout` ends (set by the executor when the step starts); nullopt: no limit.
  // SQL work polls it and cancels its query on the server when it passes.
  virtual std::optional<std::chrono::steady_clock::time_point> Deadline() const {
    return std::nullopt;
  }

  // copy_rows only: the columns of this step's table whose copied values later steps `match` on,
  // i.e. the `match.parent_column` of every copy_rows step whose `match.step` is this step. The
  // step saves those values (SaveData "keys:<column>") for them. The executor computes this from
  // the runbook; the default (none) makes a later `match` on this step fail with a clear error.
  virtual std::vector<std::string> MatchedColumns() const { return {}; }

  // copy_rows only: the run's kept connections (engine/pg.h PgPool); nullptr: connect anew.
  virtual PgPool* ConnectionPool() { return nullptr; }

  // copy_rows only: called once the step has done what changes nothing (connecting, BEGIN,
  // reading catalogs) and before anything it changes. Until then the attempt's step_started
  // record may not be durable yet: the executor defers its sync for such steps so that the
  // sync runs while they connect. An error (the journal cannot be written) means the step must
  // stop without changing anything.
  virtual Status BeforeChanges() { return Status::Ok(); }

  // Data a step keeps with the run (journaled), readable by later steps even after a resume in
  // a new process: e.g. the key values a copy_rows step copied, for a later `match`.
  virtual Status SaveData(const std::string& key, const std::string& value) = 0;
  virtual std::optional<std::string> LoadData(const std::string& step_id,
                                              const std::string& key) = 0;
};

// The outcome of evaluating one guard, with the evidence shown to the operator.
struct GuardResult {
  bool held = false;
  std::string summary;                // one line: "postgres is idle on prod (0 active backends)"
  std::vector<std::string> evidence;  // detail lines: active queries, unapplied migrations, ...
};

}  // namespace runbook
