#include "engine/dispatch.h"

#include "steps/backup_fresh_guard.h"
#include "steps/cancel_queries_step.h"
#include "steps/command_guard.h"
#include "steps/copy_rows_step.h"
#include "steps/manual_step.h"
#include "steps/migrations_applied_guard.h"
#include "steps/postgres_idle_guard.h"
#include "steps/run_step.h"
#include "steps/sql_guard.h"
#include "steps/sql_step.h"

namespace runbook {

StepOutcome RunStepKind(const Step& step, StepEnv& env) {
  struct Runner {
    StepEnv& env;
    StepOutcome operator()(const RunStep& k) { return RunRunStep(k, env); }
    StepOutcome operator()(const SqlStep& k) { return RunSqlStep(k, env); }
    StepOutcome operator()(const CopyRowsStep& k) { return RunCopyRowsStep(k, env); }
    StepOutcome operator()(const CancelQueriesStep& k) { return RunCancelQueriesStep(k, env); }
    StepOutcome operator()(const ManualStep& k) { return RunManualStep(k, env); }
  };
  return std::visit(Runner{env}, step.kind);
}

std::vector<std::string> DescribeStepKind(const Step& step, StepEnv& env) {
  struct Describer {
    StepEnv& env;
    std::vector<std::string> operator()(const RunStep&) { return {}; }
    std::vector<std::string> operator()(const SqlStep& k) { return DescribeSqlStep(k, env); }
    std::vector<std::string> operator()(const CopyRowsStep& k) {
      return DescribeCopyRowsStep(k, env);
    }
    std::vector<std::string> operator()(const CancelQueriesStep& k) {
      return DescribeCancelQueriesStep(k, env);
    }
    std::vector<std::string> operator()(const ManualStep&) { return {}; }
  };
  return std::visit(Describer{env}, step.kind);
}

std::vector<std::string> ObserveStepKind(const Step& step, StepEnv& env) {
  if (const auto* k = std::get_if<CancelQueriesStep>(&step.kind)) {
    return ObserveCancelQueriesStep(*k, env);
  }
  return {};
}

GuardResult EvaluateGuard(const Guard& guard, StepEnv& env) {
  struct Evaluator {
    StepEnv& env;
    GuardResult operator()(const PostgresIdleGuard& g) { return EvalPostgresIdle(g, env); }
    GuardResult operator()(const MigrationsAppliedGuard& g) {
      return EvalMigrationsApplied(g, env);
    }
    GuardResult operator()(const BackupFreshGuard& g) { return EvalBackupFresh(g, env); }
    GuardResult operator()(const SqlGuard& g) { return EvalSqlGuard(g, env); }
    GuardResult operator()(const CommandGuard& g) { return EvalCommandGuard(g, env); }
  };
  return std::visit(Evaluator{env}, guard.kind);
}

}  // namespace runbook
