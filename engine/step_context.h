// The executor's StepEnv: one per step attempt sequence. Renders the step's templates in the run's
// scope, runs its processes (locally, as another user through sudo, or on an ssh host), writes its
// output to the step log and the reporter, and journals the data it keeps.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "engine/reporter.h"
#include "engine/resolve.h"
#include "engine/step_env.h"

namespace runbook {

class RemoteHosts;

// Data steps keep with the run (step id -> key -> value), shared by all steps of a run.
class RunData {
 public:
  void Put(const std::string& step, const std::string& key, const std::string& value);
  std::optional<std::string> Get(const std::string& step, const std::string& key) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> data_;
};

// What all steps of one run share.
struct RunServices {
  RunScope* scope = nullptr;
  ProcessRunner* processes = nullptr;
  Reporter* reporter = nullptr;
  Prompter* prompter = nullptr;
  Journal* journal = nullptr;  // null in a dry run
  RunData* data = nullptr;
  RemoteHosts* remote = nullptr;  // null: only local hosts are usable
  PgPool* pg_pool = nullptr;      // null: every copy_rows step connects anew
  CancelToken cancel;
  DryRun dry_run = DryRun::kNo;
  bool yes = false;
  Duration kill_grace = std::chrono::seconds(5);
  std::vector<std::string> redact;      // secret values
  std::vector<std::string> secret_env;  // variables secrets come from: not passed to children
  std::string log_dir;                  // empty: no log files (dry run)
  std::string boot_id;                  // this boot's id, journaled with each step's processes
};

// The database `ref` names, its conninfo and password rendered in `scope`, reached through its
// ssh tunnel when it has one (StepEnv::Database of a step; also the run's target locks).
Result<DbTarget> ResolveDatabase(const RunServices& services, const TemplateScope& scope,
                                 const NameRef& ref);

class StepContext : public StepEnv, private OutputSink {
 public:
  StepContext(const Step& step, RunServices* services);
  ~StepContext() override;

  // The time by which the step must end (its timeout from now); reset for each attempt.
  void StartClock();
  bool DeadlinePassed() const;

  // The executor wrote the attempt's step_started record without syncing it (Journal::Write):
  // the step's next process syncs it before its command may start, a remote one while its ssh
  // session is set up (ProcessSpec::before_input); a copy_rows step syncs it while it connects
  // (BeforeChanges). FinishStartSync syncs it if neither did.
  void DeferStartSync() { start_sync_pending_ = true; }
  Status FinishStartSync();

  // A line of the engine's own in the step log only (not on the terminal), marked "==" so a
  // reader tells it from the step's output: where each attempt starts and how it ended.
  void LogNote(std::string_view note);

  const std::string& step_id() const override { return step_.id; }
  const std::string& run_id() const override { return services_->scope->run_id(); }
  DryRun dry_run() const override { return services_->dry_run; }
  Result<std::string> Render(const Text& text) override;
  Result<std::string> RenderShown(const Text& text) override;
  Result<SqlText> RenderSql(const Text& text) override;
  Result<DbTarget> Database(const NameRef& db) override;
  ProcessResult RunOn(const std::string& host, const ProcessSpec& spec, OutputSink* out) override;
  using StepEnv::RunCommand;
  ProcessResult RunCommand(const Command& command, const std::optional<NameRef>& host,
                           OutputSink* out, const CommandInputs& inputs) override;
  bool RunsHere(const std::optional<NameRef>& host) const override;
  Result<bool> AskOperator(const std::string& text) override;
  bool AnswersWithYes() const override;
  OutputSink& Out() override { return *this; }
  const CancelToken& Cancel() const override { return services_->cancel; }
  std::optional<std::chrono::steady_clock::time_point> Deadline() const override {
    return deadline_;
  }
  std::vector<std::string> MatchedColumns() const override;
  PgPool* ConnectionPool() override { return services_->pg_pool; }
  Status BeforeChanges() override { return SyncStart(); }
  Status SaveData(const std::string& key, const std::string& value) override;
  std::optional<std::string> LoadData(const std::string& step_id, const std::string& key) override;

 private:
  void Line(Stream stream, std::string_view line) override;
  void WriteLog(std::string_view marker, std::string_view text);
  Duration Remaining() const;
  Status SyncStart();

  const Step& step_;
  RunServices* services_;
  std::map<std::string, std::string> outcomes_;  // the scope's snapshot for this step
  TemplateScope scope_;
  std::FILE* log_ = nullptr;
  std::mutex log_mu_;
  std::chrono::steady_clock::time_point deadline_;
  bool start_sync_pending_ = false;
};

}  // namespace runbook
