// The `cancel_queries` step: cancels long-running queries of other sessions on a database.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/step_env.h"
#include "steps/step_outcome.h"

namespace runbook {

// Cancels (pg_cancel_backend: the query, not the session) every query on the step's database
// that is active, has run at least `older_than` (default: any age), is not ours (neither this
// connection nor any connection of this run), matches `application_name` when given (exact, or
// a pattern with '*'), and, with `read_only` (the default), belongs to a backend that holds no
// transaction id, i.e. has written nothing in its current transaction. Selection and cancel are
// one statement, so a backend is judged on the state it is cancelled in (a backend may still
// start writing in the instant between; PostgreSQL offers no atomic check).
// Reports each cancelled query: pid, user, application, duration and text.
// Dry run: lists what would be cancelled and cancels nothing.
StepOutcome RunCancelQueriesStep(const CancelQueriesStep& step, StepEnv& env);

std::vector<std::string> DescribeCancelQueriesStep(const CancelQueriesStep& step, StepEnv& env);

// For plans: the queries the step would cancel if it ran now, a line each ("would cancel pid ...",
// as the run reports them), "no query would be cancelled now", or "cannot tell now: WHY". The
// selection runs in a read-only transaction; nothing is cancelled.
std::vector<std::string> ObserveCancelQueriesStep(const CancelQueriesStep& step, StepEnv& env);

}  // namespace runbook
