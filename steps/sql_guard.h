// The `sql` guard: a query whose result must be one expected value or a number of rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model.h"
#include "engine/pg.h"
#include "engine/step_env.h"

namespace runbook {

// Whether a result meets an expectation, and what it was ("true", "3 rows", "2 columns").
struct ExpectCheck {
  bool held = false;
  std::string got;
};

// With `expect_rows`: the number of rows must equal it. Otherwise the result must have exactly
// one row and one column whose value, as text, equals `expect`; the boolean spellings are
// normalised first ("t"/"f" from the server equal "true"/"false", any case). NULL never matches.
ExpectCheck CheckSqlExpectation(const PgResult& result, const std::string& expect,
                                std::optional<int64_t> expect_rows);

// Runs the guard's query (rendered: `${{ }}` become bind params) in a read-only transaction on
// `db`. Held when the expectation holds. The summary says what was expected and what came back;
// an unreachable database or an SQL error fails the guard with the error as evidence.
GuardResult EvalSqlGuard(const SqlGuard& guard, StepEnv& env);

// For plans: the query as it would run, with the expectation.
std::vector<std::string> DescribeSqlGuard(const SqlGuard& guard, StepEnv& env);

}  // namespace runbook
