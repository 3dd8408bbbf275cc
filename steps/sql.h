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

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/pg.h"
#include "engine/step_kind.h"

namespace runbook {

enum class ShowMode { kNone, kTable };

struct SqlStep final : StepKind {
  static constexpr const char* kKey = "sql";
  static std::unique_ptr<StepKind> Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags);

  NameRef db;
  std::optional<Text> query;  // exactly one of query and file
  std::optional<Text> file;
  ShowMode show = ShowMode::kNone;
  std::optional<Text> expect;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  void Define(DefinitionBuilder& def) const override;
  // "on DB:" then the SQL with parameter values shown (secrets as ***), or the file.
  StepDescription Describe(StepEnv& env) const override;
  std::vector<std::string> Observe(StepEnv& env) const override;
  StepOutcome Run(StepEnv& env) const override;
};

// A result as psql's aligned format prints it: centered header, separator, rows (numbers right
// aligned, NULL empty, newlines in values as "\n"), then "(N rows)". Trailing spaces trimmed.
std::vector<std::string> FormatPsqlTable(const PgResult& result);

}  // namespace runbook
