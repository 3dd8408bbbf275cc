// The `sql` guard: a query whose result must be one expected value or a number of rows.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/pg.h"
#include "engine/step_kind.h"

namespace runbook {

class MapReader;

struct SqlGuard final : GuardKind {
  static constexpr const char* kKey = "sql";
  static std::unique_ptr<GuardKind> Parse(const MapReader& guard, const DocNode& value,
                                          const std::string& owner, Diagnostics* diags);

  NameRef db;
  Text query;
  std::optional<Text> expect;  // the one value; "true" when neither is given
  std::optional<int64_t> expect_rows;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  // Runs the guard's query (rendered: `${{ }}` become bind params) in a read-only transaction on
  // `db`. Held when the expectation holds. The summary says what was expected and what came back;
  // an unreachable database or an SQL error fails the guard with the error as evidence.
  GuardResult Evaluate(StepEnv& env) const override;
};

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

}  // namespace runbook
