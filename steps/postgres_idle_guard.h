// The `postgres_idle` guard: no other active backend on the database.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

// Counts the client backends connected to the guard's database that are not idle (active, idle
// in transaction, ... or of unknown state when we may not see it), leaving out our own
// connections (our pid and every connection of this run: application_name "runbook/<run id>...")
// and those whose application_name is in `ignore_applications`. Held when the count is at most
// `max_active`. Evidence: one line per backend with pid, user, application, state, how long its
// query has run and the query text. An unreachable database fails the guard.
GuardResult EvalPostgresIdle(const PostgresIdleGuard& guard, StepEnv& env);

std::vector<std::string> DescribePostgresIdle(const PostgresIdleGuard& guard, StepEnv& env);

}  // namespace runbook
