// The `copy_rows` step: streams a subset of a table from one database into another with COPY.
//
// On the source, in a REPEATABLE READ READ ONLY transaction (one consistent snapshot):
//   COPY (SELECT cols FROM table WHERE where [AND match] ORDER BY order_by LIMIT limit) TO STDOUT
// or, with `every` N (rows N, 2N, 3N, ... in order_by order, as the wiki's row_number() query):
//   COPY (SELECT cols FROM (SELECT cols, row_number() OVER (ORDER BY order_by) AS runbook_row
//         FROM table WHERE ...) AS runbook_sample WHERE runbook_row % N = 0
//         ORDER BY runbook_row LIMIT limit) TO STDOUT
// streamed row by row, without temporary files, into COPY table (cols) FROM STDIN on the target,
// in one transaction (after TRUNCATE table when `truncate: true`) that commits only when every
// row arrived. The target keeps its constraints: foreign keys are checked during the copy (a
// target with after-row triggers and no statement triggers takes it in statements of 5000 rows,
// so the checks of one run while the next rows arrive), and the first error on the target stops
// the copy within about 1000 rows.
//
// Columns: `columns`, or every non-generated column of the source table. The binary COPY format
// is used when each column has the same built-in type on both sides (checked in the catalogs),
// else text (which converts between compatible types). `every` without `order_by` orders by the
// primary key. `where`/`order_by` are SQL: `${{ }}` in them become quoted literals (COPY takes no
// bind parameters). `table` may be schema-qualified; names follow SQL rules (unquoted = lower
// case); `columns` are exact names.
//
// `match: {column, step, parent_column}` keeps the rows whose `column` is among the
// `parent_column` values the earlier copy_rows step `step` copied. That step saved them with the
// run (SaveData "keys:<parent_column>", a text[] literal) because the executor told it, through
// StepEnv::MatchedColumns(), from ColumnsMatchedFrom of the later steps, which of its columns later
// steps match on; the values are sent to the source as one literal array: `column =
// ANY('{...}'::type[])`. The source needs no write access (it may be a standby) and the target no
// access to the source.
//
// Connections: both sides are made ready at once (connect, BEGIN, one catalog query each). With
// StepEnv::ConnectionPool(), a connection the run kept from an earlier step is used instead of a
// new one, and both are given back at the end (the pool keeps only those that committed).
//
// Cancel and timeout stop both sides and roll both back. Dry run: describes, copies nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

struct CopyMatch {
  std::string column;         // column of this table
  NameRef step;               // an earlier copy_rows step
  std::string parent_column;  // column copied by that step whose values are kept
  Location loc;
};

// How the target checks its foreign keys: row by row as the rows arrive (the server's triggers),
// or once after the copy by re-creating them in the step's transaction.
enum class ForeignKeyCheck { kPerRow, kAfterCopy };

struct CopyRowsStep final : StepKind {
  static constexpr const char* kKey = "copy_rows";
  static std::unique_ptr<StepKind> Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags);

  NameRef from;
  NameRef to;
  Text table;
  std::vector<Text> columns;  // empty = all
  std::optional<Text> where;
  std::optional<Text> order_by;
  std::optional<Text> every;  // integer, possibly templated
  std::optional<Text> limit;  // integer, possibly templated
  std::optional<CopyMatch> match;
  bool truncate = false;
  ForeignKeyCheck foreign_keys = ForeignKeyCheck::kPerRow;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  void Define(DefinitionBuilder& def) const override;
  // The two COPY statements (columns shown as `*` when not listed: the plan does not read
  // catalogs) with the transaction each runs in.
  StepDescription Describe(StepEnv& env) const override;
  std::vector<std::string> Observe(StepEnv& env) const override;
  StepOutcome Run(StepEnv& env) const override;
  bool SyncsStartWhileSettingUp(bool) const override { return true; }
  std::vector<std::string> PooledDatabases() const override { return {from.name, to.name}; }
  std::vector<std::string> ColumnsMatchedFrom(const std::string& step_id) const override;
};

// The source SELECT (see above). `columns` is the comma-separated, quoted column list; `filter`
// the WHERE condition or empty; `order_by` empty for none (required with `every`). `key`, when
// set, is the table's primary key, equal to `order_by`: with `every` and no filter, only the
// key is read to choose the rows (an index-only scan) and the rows are fetched by key, in key
// order. Below every 20 the keys are numbered:
//   SELECT cols FROM table WHERE key = ANY(ARRAY(SELECT key FROM (SELECT key, row_number()
//   OVER (ORDER BY key) AS runbook_row FROM table) AS runbook_sample WHERE runbook_row % N = 0
//   ORDER BY runbook_row LIMIT limit)) ORDER BY key
// from every 20 on, each chosen key is the Nth after the one before:
//   ... WHERE key = ANY(ARRAY(WITH RECURSIVE runbook_sample AS ((SELECT key FROM table ORDER BY
//   key OFFSET N-1 LIMIT 1) UNION ALL SELECT runbook_next.* FROM runbook_sample CROSS JOIN
//   LATERAL (SELECT key FROM table WHERE ROW(key) > ROW(runbook_sample.*) ORDER BY key OFFSET N-1
//   LIMIT 1) AS runbook_next) SELECT key FROM runbook_sample LIMIT limit)) ORDER BY key
// (for a key of several columns: WHERE (k1, k2) IN (SELECT k1, k2 ...)).
std::string BuildCopySelect(const std::string& table, const std::string& columns,
                            const std::string& filter, const std::string& order_by,
                            std::optional<int64_t> every, std::optional<int64_t> limit,
                            const std::string& key = "");

}  // namespace runbook
