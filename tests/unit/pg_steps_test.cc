// The SQL step and guard kinds' pure parts, and their dry-run behaviour with a fake StepEnv
// (no server: everything here must work offline).
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pg.h"
#include "steps/cancel_queries.h"
#include "steps/copy_rows.h"
#include "steps/migrations_applied.h"
#include "steps/pg_util.h"
#include "steps/sql.h"
#include "steps/sql_guard.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

PgResult Rows(std::vector<std::string> columns, std::vector<PgRow> rows) {
  PgResult r;
  r.returns_rows = true;
  r.columns = std::move(columns);
  r.rows = std::move(rows);
  return r;
}

TEST(FormatPsqlTableTest, AlignsLikePsql) {
  PgResult r = Rows({"n", "long name"}, {{"12345", "é"}, {std::nullopt, "x\ny"}});
  r.column_types = {23, 25};  // int4 right aligned, text left aligned
  EXPECT_THAT(FormatPsqlTable(r), ElementsAre("   n   | long name",   //
                                              "-------+-----------",  //
                                              " 12345 | é",           //
                                              "       | x\\ny",       //
                                              "(2 rows)"));
}

TEST(FormatPsqlTableTest, OneRowAndNoRows) {
  EXPECT_EQ(FormatPsqlTable(Rows({"a"}, {{"1"}})).back(), "(1 row)");
  EXPECT_THAT(FormatPsqlTable(Rows({"a"}, {})), ElementsAre(" a", "---", "(0 rows)"));
}

TEST(CheckSqlExpectationTest, OneValueComparedAsTextWithBooleanSpellings) {
  EXPECT_TRUE(CheckSqlExpectation(Rows({"ok"}, {{"t"}}), "true", std::nullopt).held);
  EXPECT_TRUE(CheckSqlExpectation(Rows({"ok"}, {{"f"}}), "FALSE", std::nullopt).held);
  EXPECT_TRUE(CheckSqlExpectation(Rows({"n"}, {{"42"}}), "42", std::nullopt).held);
  ExpectCheck c = CheckSqlExpectation(Rows({"n"}, {{"41"}}), "42", std::nullopt);
  EXPECT_FALSE(c.held);
  EXPECT_EQ(c.got, "41");
  EXPECT_EQ(CheckSqlExpectation(Rows({"n"}, {{std::nullopt}}), "x", std::nullopt).got, "NULL");
  EXPECT_EQ(CheckSqlExpectation(Rows({"a", "b"}, {{"1", "2"}}), "1", std::nullopt).got,
            "2 columns");
  EXPECT_EQ(CheckSqlExpectation(Rows({"a"}, {{"1"}, {"1"}}), "1", std::nullopt).got, "2 rows");
}

TEST(CheckSqlExpectationTest, ExpectRows) {
  EXPECT_TRUE(CheckSqlExpectation(Rows({"a"}, {{"1"}, {"2"}}), "", 2).held);
  EXPECT_FALSE(CheckSqlExpectation(Rows({"a"}, {}), "", 1).held);
}

TEST(PgUtilTest, Durations) {
  EXPECT_DOUBLE_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_DOUBLE_EQ(*ParseDurationSeconds("5m"), 300);
  EXPECT_DOUBLE_EQ(*ParseDurationSeconds("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(*ParseDurationSeconds("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(*ParseDurationSeconds("2"), 2);
  EXPECT_FALSE(ParseDurationSeconds("5 parsecs").ok());
  EXPECT_FALSE(ParseDurationSeconds("").ok());
}

TEST(PgUtilTest, Formatting) {
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1234567), "1.2 MB");
  EXPECT_EQ(FormatSeconds(0.42), "0.4 s");
  EXPECT_EQ(FormatSeconds(185), "3 min 5 s");
  EXPECT_EQ(OneLine("SELECT  1\n  FROM t", 200), "SELECT 1 FROM t");
  EXPECT_EQ(OneLine("abcdef", 3), "abc...");
  EXPECT_EQ(TextArrayLiteral({"1", "a\"b", "c\\d"}), "{\"1\",\"a\\\"b\",\"c\\\\d\"}");
  EXPECT_EQ(TextArrayLiteral({}), "{}");
}

TEST(CopyTextFieldTest, DecodesCopyTextFormat) {
  const std::string row = "1\tab\\tc\\\\d\t\\N\t\\101\\n\n";
  EXPECT_EQ(CopyTextField(row, 0), std::optional<std::string>("1"));
  EXPECT_EQ(CopyTextField(row, 1), std::optional<std::string>("ab\tc\\d"));
  EXPECT_EQ(CopyTextField(row, 2), std::nullopt);
  EXPECT_EQ(CopyTextField(row, 3), std::optional<std::string>("A\n"));
  EXPECT_EQ(CopyTextField(row, 4), std::nullopt);
}

TEST(BuildCopySelectTest, EveryKeepsTheRowNumberOutOfTheCopiedColumns) {
  EXPECT_EQ(BuildCopySelect("files", "id, name", "(id > 0)", "id", 500, 10000),
            "SELECT id, name FROM (SELECT id, name, row_number() OVER (ORDER BY id) AS "
            "runbook_row FROM files WHERE (id > 0)) AS runbook_sample WHERE runbook_row % 500 = "
            "0 ORDER BY runbook_row LIMIT 10000");
  EXPECT_EQ(BuildCopySelect("files", "id, name", "", "id", 19, 10, "id"),
            "SELECT id, name FROM files WHERE id = ANY(ARRAY(SELECT id FROM (SELECT id, "
            "row_number() OVER (ORDER BY id) AS runbook_row FROM files) AS runbook_sample WHERE "
            "runbook_row % 19 = 0 ORDER BY runbook_row LIMIT 10)) ORDER BY id");
  EXPECT_EQ(BuildCopySelect("t", "a, b, c", "", "a, b", 2, std::nullopt, "a, b"),
            "SELECT a, b, c FROM t WHERE (a, b) IN (SELECT a, b FROM (SELECT a, b, row_number() "
            "OVER (ORDER BY a, b) AS runbook_row FROM t) AS runbook_sample WHERE runbook_row % 2 "
            "= 0 ORDER BY runbook_row) ORDER BY a, b");
  EXPECT_EQ(BuildCopySelect("t", "a", "", "", std::nullopt, std::nullopt), "SELECT a FROM t");
  EXPECT_EQ(BuildCopySelect("t", "a", "a = 1", "a", std::nullopt, 5),
            "SELECT a FROM t WHERE a = 1 ORDER BY a LIMIT 5");
}

TEST(BuildCopySelectTest, EveryFromTwentyOnFindsEachKeyFromTheOneBefore) {
  EXPECT_EQ(
      BuildCopySelect("files", "id, name", "", "id", 20, 10, "id"),
      "SELECT id, name FROM files WHERE id = ANY(ARRAY(WITH RECURSIVE runbook_sample AS "
      "((SELECT id FROM files ORDER BY id OFFSET 19 LIMIT 1) UNION ALL SELECT "
      "runbook_next.* FROM runbook_sample CROSS JOIN LATERAL (SELECT id FROM files WHERE "
      "ROW(id) > ROW(runbook_sample.*) ORDER BY id OFFSET 19 LIMIT 1) AS runbook_next) SELECT id "
      "FROM runbook_sample LIMIT 10)) ORDER BY id");
  // A key of several columns, one a quoted name with a comma in it.
  EXPECT_EQ(BuildCopySelect("t", "*", "", "\"a, b\", c", 100, std::nullopt, "\"a, b\", c"),
            "SELECT * FROM t WHERE (\"a, b\", c) IN (WITH RECURSIVE runbook_sample AS ((SELECT "
            "\"a, b\", c FROM t ORDER BY \"a, b\", c OFFSET 99 LIMIT 1) UNION ALL SELECT "
            "runbook_next.* FROM runbook_sample CROSS JOIN LATERAL (SELECT \"a, b\", c FROM t "
            "WHERE ROW(\"a, b\", c) > ROW(runbook_sample.*) ORDER BY \"a, "
            "b\", c OFFSET 99 LIMIT 1) AS runbook_next) SELECT \"a, b\", c FROM runbook_sample) "
            "ORDER BY \"a, b\", c");
}

TEST(ParseShowMigrationsPlanTest, TakesUncheckedLines) {
  EXPECT_THAT(ParseShowMigrationsPlan("[X]  contenttypes.0001_initial\n"
                                      "[ ]  shop.0002_item_price\n"
                                      "[ ]  shop.0003_x (2 squashed migrations)\n"),
              ElementsAre("shop.0002_item_price", "shop.0003_x"));
}

TEST(FindMigrationFilesTest, FindsAppMigrationsUnderAProject) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(::testing::TempDir()) / "migr-find";
  fs::remove_all(root);
  for (const char* f :
       {"shop/migrations/__init__.py", "shop/migrations/0001_initial.py",
        "shop/migrations/0002_b.py", "shop/migrations/helper.py", "core/migrations/__init__.py",
        "core/migrations/0001_initial.py", ".venv/x/migrations/__init__.py",
        ".venv/x/migrations/0001_no.py", "static/migrations/0001_not_a_package.py"}) {
    fs::create_directories((root / f).parent_path());
    std::ofstream(root / f) << "";
  }
  auto found = FindMigrationFiles(root.string());
  ASSERT_TRUE(found.ok()) << found.message();
  using P = std::pair<std::string, std::string>;
  EXPECT_THAT(*found, ElementsAre(P{"core", "0001_initial"}, P{"shop", "0001_initial"},
                                  P{"shop", "0002_b"}));
  auto one_app = FindMigrationFiles((root / "shop/migrations").string());
  ASSERT_TRUE(one_app.ok());
  EXPECT_EQ(one_app->size(), 2u);
  EXPECT_FALSE(FindMigrationFiles((root / "nope").string()).ok());
  fs::remove_all(root);
}

TEST(DescribeTest, CopyRowsShowsBothStatementsWithoutConnecting) {
  FakeStepEnv env;
  env.values["params.every"] = "500";
  env.values["params.since"] = "2020-01-01";
  CopyRowsStep s;
  s.from = {"prod", {}};
  s.to = {"dev", {}};
  s.table = T("waveforms_file");
  s.where = T("created > ${{ params.since }}");
  s.order_by = T("id");
  s.every = T("${{ params.every }}");
  s.limit = T("10000");
  s.truncate = true;
  EXPECT_THAT(s.Describe(env).details,
              ElementsAre("on prod (REPEATABLE READ READ ONLY): COPY (SELECT * FROM (SELECT *, "
                          "row_number() OVER (ORDER BY id) AS runbook_row FROM waveforms_file "
                          "WHERE (created > '2020-01-01')) AS runbook_sample WHERE runbook_row % "
                          "500 = 0 ORDER BY runbook_row LIMIT 10000) TO STDOUT",
                          "on dev (one transaction): TRUNCATE waveforms_file; COPY "
                          "waveforms_file (*) FROM STDIN"));
  s.every.reset();
  s.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  EXPECT_THAT(s.Describe(env).details[0],
              HasSubstr("file_id = ANY(<values of id copied by step sample-files>)"));
}

TEST(DescribeTest, CopyRowsRejectsABadCount) {
  FakeStepEnv env;
  CopyRowsStep s;
  s.table = T("t");
  s.every = T("0");
  EXPECT_EQ(s.Run(env).message, "every: expected a positive integer, got '0'");
}

TEST(DescribeTest, SqlStepDryRunShowsSecretsMasked) {
  FakeStepEnv env;
  env.dry = DryRun::kYes;
  env.values["secrets.pw"] = "hunter2";
  env.secrets.insert("secrets.pw");
  SqlStep s;
  s.db = {"dev", {}};
  s.query = T("ALTER ROLE jane PASSWORD ${{ secrets.pw }}");
  StepOutcome o = s.Run(env);  // no database "dev" in the fake: must not connect
  EXPECT_TRUE(o.ok);
  EXPECT_THAT(env.out.Lines(), ElementsAre("on dev:", "  ALTER ROLE jane PASSWORD '***'"));
}

TEST(DescribeTest, CancelQueries) {
  FakeStepEnv env;
  CancelQueriesStep s;
  s.db = {"prod", {}};
  s.older_than = T("5m");
  s.application_name = T("report-*");
  EXPECT_THAT(s.Describe(env).details,
              ElementsAre("cancel active queries on prod running longer than 5 min of "
                          "application 'report-*', only sessions that have written nothing"));
  s.older_than = T("soon");
  EXPECT_THAT(s.Run(env).message, HasSubstr("older_than: invalid duration"));
}

TEST(GuardTest, UnknownDatabaseFailsTheGuardWithTheReason) {
  FakeStepEnv env;
  SqlGuard g;
  g.db = {"nowhere", {}};
  g.query = T("SELECT true");
  GuardResult r = g.Evaluate(env);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.summary, "sql guard on nowhere: cannot be evaluated: unknown database nowhere");
}

TEST(StepApplicationNameTest, PrefixAndTruncation) {
  EXPECT_EQ(StepApplicationName("20260101-abc", "migrate"), "runbook/20260101-abc/migrate");
  EXPECT_EQ(StepApplicationName("r", std::string(100, 's')).size(), 63u);
  EXPECT_EQ(RunApplicationPrefix("r"), "runbook/r");
}

}  // namespace
}  // namespace runbook
