// The `sql` step: runs one or more statements (a query text or a file) on a database.
//
// The text is split into statements at top-level semicolons and each runs on its own, in
// autocommit mode like `psql -f` (write BEGIN; ... COMMIT; for one transaction). `${{ }}` in a
// `query` became bind parameters (env.RenderSql); each statement gets the ones it uses, so a
// value never becomes SQL text. A `file` is run as written: no templating inside it.
// `show: table` prints every row-returning result aligned like psql, with "(N rows)".
// `expect` checks the last result like the sql guard (one value, true by default).
// In dry run nothing is executed; the step describes itself on Out().
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/pg.h"
#include "engine/step_env.h"
#include "steps/step_outcome.h"

namespace runbook {

StepOutcome RunSqlStep(const SqlStep& step, StepEnv& env);

// For plans: "on DB:" then the SQL with parameter values shown (secrets as ***), or the file.
std::vector<std::string> DescribeSqlStep(const SqlStep& step, StepEnv& env);

// A result as psql's aligned format prints it: centered header, separator, rows (numbers right
// aligned, NULL empty, newlines in values as "\n"), then "(N rows)". Trailing spaces trimmed.
std::vector<std::string> FormatPsqlTable(const PgResult& result);

}  // namespace runbook
