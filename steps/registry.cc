#include "steps/registry.h"

#include "steps/backup_fresh.h"
#include "steps/cancel_queries.h"
#include "steps/command.h"
#include "steps/copy_rows.h"
#include "steps/manual.h"
#include "steps/migrations_applied.h"
#include "steps/postgres_idle.h"
#include "steps/run.h"
#include "steps/sql.h"
#include "steps/sql_guard.h"

namespace runbook {

namespace {

template <class Kind>
KindRegistry::StepEntry StepEntry() {
  return {Kind::kKey, &Kind::Parse};
}

template <class Kind>
KindRegistry::GuardEntry GuardEntry(bool host_beside = false) {
  return {Kind::kKey, &Kind::Parse, host_beside};
}

}  // namespace

const KindRegistry& BuiltinKinds() {
  static const KindRegistry kinds{
      {
          StepEntry<RunStep>(),
          StepEntry<SqlStep>(),
          StepEntry<CopyRowsStep>(),
          StepEntry<CancelQueriesStep>(),
          StepEntry<ManualStep>(),
      },
      {
          GuardEntry<PostgresIdleGuard>(),
          GuardEntry<MigrationsAppliedGuard>(),
          GuardEntry<BackupFreshGuard>(/*host_beside=*/true),
          GuardEntry<SqlGuard>(),
          GuardEntry<CommandGuard>(/*host_beside=*/true),
      },
  };
  return kinds;
}

}  // namespace runbook
