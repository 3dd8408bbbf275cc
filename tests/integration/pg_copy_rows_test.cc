// copy_rows between two databases of the test cluster.
#include <algorithm>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pg.h"
#include "steps/copy_rows.h"
#include "tests/integration/pg_harness.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

using testing::Connect;
using testing::CreateTestDb;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing::MustExec;
using testing::Pg;

constexpr const char* kSchema =
    "CREATE TABLE files (id bigint PRIMARY KEY, name text NOT NULL, created timestamptz);"
    "CREATE TABLE traces (id bigint PRIMARY KEY, file_id bigint NOT NULL REFERENCES files(id),"
    " samples double precision[]);";

std::string Count(const std::string& db, const std::string& sql) {
  PgResult r = MustExec(db, sql);
  return r.rows.empty() ? "" : r.rows[0][0].value_or("NULL");
}

class CopyRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = CreateTestDb("_src");
    dst_ = CreateTestDb("_dst");
    MustExec(src_, kSchema);
    MustExec(dst_, kSchema);
    MustExec(src_,
             "INSERT INTO files SELECT i, 'file ' || i || E'\\ttab\\\\', now() FROM "
             "generate_series(1, 1000) i;"
             "INSERT INTO traces SELECT i, (i - 1) / 5 + 1, ARRAY[i, i / 3.0] FROM "
             "generate_series(1, 5000) i");
    env_.databases["prod"] = Pg().Target(src_, "prod");
    env_.databases["dev"] = Pg().Target(dst_, "dev");
  }
  CopyRowsStep Step(const std::string& table) {
    CopyRowsStep s;
    s.from = {"prod", {}};
    s.to = {"dev", {}};
    s.table = T(table);
    return s;
  }
  // Files 1-3 with `truncate: true` (traces dropped on the target, so that files can be).
  CopyRowsStep FirstFilesWithTruncate() {
    MustExec(dst_, "DROP TABLE traces");
    CopyRowsStep files = Step("files");
    files.where = T("id <= 3");
    files.truncate = true;
    return files;
  }
  // The parent sample: every 10th file by id, at most 50, saving ids for the children.
  void CopyFiles() {
    CopyRowsStep files = Step("files");
    files.order_by = T("id");
    files.every = T("${{ params.every }}");
    files.limit = T("50");
    env_.values["params.every"] = "10";
    env_.step_id_value = "sample-files";
    env_.matched_columns = {"id"};
    StepOutcome o = files.Run(env_);
    ASSERT_TRUE(o.ok) << o.message;
    EXPECT_THAT(o.message, MatchesRegex("copied 50 rows \\(.* kB\\) from prod to dev in .* s "
                                        "\\(text\\)"));
    env_.matched_columns.clear();
  }
  std::string src_;
  std::string dst_;
  FakeStepEnv env_;
};

TEST_F(CopyRowsTest, EveryAndLimitThenMatchGiveAForeignKeyConsistentSubset) {
  CopyFiles();
  EXPECT_EQ(Count(dst_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM files WHERE id <= 50"),
            "10,20,30,40,50");
  EXPECT_EQ(Count(dst_, "SELECT max(id) FROM files"), "500");
  // Values survive the text format unchanged (tab and backslash included).
  EXPECT_EQ(Count(dst_, "SELECT name FROM files WHERE id = 10"), "file 10\ttab\\");

  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  traces.limit = T("50000");
  env_.step_id_value = "sample-traces";
  StepOutcome o = traces.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(o.message, MatchesRegex("copied 250 rows .* \\(binary\\)"));
  EXPECT_EQ(Count(dst_,
                  "SELECT count(*) FROM traces t LEFT JOIN files f ON f.id = t.file_id "
                  "WHERE f.id IS NULL"),
            "0");
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "250");
  EXPECT_EQ(Count(dst_, "SELECT samples::text FROM traces WHERE id = 46"),
            "{46,15.333333333333334}");
  // The foreign key stayed in place on the target all along.
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"), "1");
}

TEST_F(CopyRowsTest, EveryCountsRowsAfterTheWhereClause) {
  MustExec(dst_, "DROP TABLE traces");
  CopyRowsStep files = Step("files");
  files.where = T("id > 500");
  files.order_by = T("id DESC");
  files.every = T("100");
  StepOutcome o = files.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM files"),
            "501,601,701,801,901");
}

TEST_F(CopyRowsTest, EveryWithoutOrderByFollowsThePrimaryKey) {
  MustExec(dst_, "DROP TABLE traces");
  CopyRowsStep files = Step("files");
  files.every = T("250");
  StepOutcome o = files.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM files"),
            "250,500,750,1000");
}

TEST_F(CopyRowsTest, EveryOnACompositePrimaryKey) {
  const char* table = "CREATE TABLE pairs (a int, b int, v text, PRIMARY KEY (a, b))";
  MustExec(src_,
           std::string(table) +
               "; INSERT INTO pairs SELECT i / 10, i % 10, 'v' FROM generate_series(0, 99) i");
  MustExec(dst_, table);
  CopyRowsStep pairs = Step("pairs");
  pairs.every = T("25");
  StepOutcome o = pairs.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT string_agg(a || '/' || b, ',' ORDER BY a, b) FROM pairs"),
            "2/4,4/9,7/4,9/9");
}

// A sample by primary key numbers the keys below every 20 and walks the key index from 20 on:
// either way the rows are those row_number() would choose, text keys, gaps, a table shorter
// than N and a limit included.
TEST_F(CopyRowsTest, EveryByPrimaryKeyChoosesTheRowsRowNumberWould) {
  const char* tables =
      "CREATE TABLE gaps (id int PRIMARY KEY, v text);"
      "CREATE TABLE words (w text PRIMARY KEY, n int);";
  MustExec(src_, std::string(tables) +
                     "INSERT INTO gaps SELECT i * 7, 'v' FROM generate_series(1, 3000) i "
                     "WHERE i % 11 <> 0;"
                     "INSERT INTO words SELECT md5(i::text), i FROM generate_series(1, 2000) i");
  MustExec(dst_, tables);
  struct Case {
    const char* table;
    const char* key;
    const char* every;
    std::optional<const char*> limit;
  };
  for (const Case& c :
       {Case{"gaps", "id", "19", {}}, Case{"gaps", "id", "20", {}}, Case{"gaps", "id", "37", "5"},
        Case{"gaps", "id", "2727", {}}, Case{"gaps", "id", "2728", {}},
        Case{"gaps", "id", "2729", {}}, Case{"gaps", "id", "25", "1"}, Case{"words", "w", "3", {}},
        Case{"words", "w", "50", {}}, Case{"words", "w", "50", "7"}}) {
    SCOPED_TRACE(std::string(c.table) + " every " + c.every + " limit " + c.limit.value_or("-"));
    CopyRowsStep step = Step(c.table);
    step.every = T(c.every);
    if (c.limit) step.limit = T(*c.limit);
    step.truncate = true;
    StepOutcome o = step.Run(env_);
    ASSERT_TRUE(o.ok) << o.message;
    const std::string expected = Count(
        src_,
        std::string("SELECT coalesce(string_agg(k::text, ',' ORDER BY k), '') FROM (SELECT ") +
            c.key + " AS k FROM (SELECT " + c.key + ", row_number() OVER (ORDER BY " + c.key +
            ") AS r FROM " + c.table + ") s WHERE r % " + c.every + " = 0 ORDER BY r" +
            (c.limit ? std::string(" LIMIT ") + *c.limit : "") + ") x");
    EXPECT_EQ(Count(dst_, std::string("SELECT coalesce(string_agg(") + c.key +
                              "::text, ',' ORDER BY " + c.key + "), '') FROM " + c.table),
              expected);
  }
  // The cases above are not all empty.
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM words"), "7");
}

TEST_F(CopyRowsTest, ForeignKeyViolationOnTheTargetFailsAndRollsBack) {
  CopyRowsStep traces = Step("traces");  // no parent rows on the target
  StepOutcome o = traces.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("target: ERROR: insert or update on table \"traces\" violates "
                                   "foreign key constraint"));
  EXPECT_THAT(o.message, HasSubstr("(SQLSTATE 23503)"));
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "0");
}

TEST_F(CopyRowsTest, TargetErrorStopsTheStreamEarly) {
  // Foreign keys are checked at the end of the COPY statement (after-row triggers), but a
  // duplicate key fails at its row: the stream must stop soon after.
  MustExec(src_, "INSERT INTO traces SELECT i, 1, NULL FROM generate_series(5001, 200000) i");
  MustExec(dst_, "INSERT INTO files VALUES (1, 'x', NULL); INSERT INTO traces VALUES (1, 1)");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  // The source pauses 50 ms every 10000 rows (read in key order from the index, so the pauses
  // come between rows rather than before the first): a target that is slow to be scheduled on a
  // loaded machine (seen under the sanitizers) still fails long before the 200000th row.
  ASSERT_TRUE(src->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                        "SET LOCAL enable_sort = off")
                  .ok());
  ASSERT_TRUE(dst->Exec("BEGIN").ok());
  int64_t streamed = 0;
  Result<CopyStats> r = StreamCopy(
      *src,
      "COPY (SELECT id, 1 FROM traces WHERE id % 10000 <> 0 OR (SELECT true FROM "
      "pg_sleep(0.05 + 0 * id)) ORDER BY id) TO STDOUT",
      *dst, "COPY traces (id, file_id) FROM STDIN", [&](std::string_view) { ++streamed; });
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("23505"));
  EXPECT_LT(streamed, 50000) << "the copy went on long after the target failed";
  // Both connections are usable again after a rollback.
  EXPECT_TRUE(dst->Exec("ROLLBACK").ok());
  EXPECT_TRUE(src->Exec("ROLLBACK").ok());
  EXPECT_TRUE(src->Exec("SELECT 1").ok());
}

// Counts the target's INSERT statements on `table` (a FOR EACH STATEMENT trigger).
void CountStatements(const std::string& db, const std::string& table) {
  MustExec(db,
           "CREATE TABLE statements (n int);"
           "CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS "
           "$$BEGIN INSERT INTO statements VALUES (1); RETURN NULL; END$$;"
           "CREATE TRIGGER count_statements AFTER INSERT ON " +
               table + " FOR EACH STATEMENT EXECUTE FUNCTION count_statement()");
}

// The end of a statement inserting traces rows for which `when` holds takes `seconds` more (an
// after-row trigger, so it runs when the statement ends).
void SlowInsertOf(const std::string& db, const std::string& when, const std::string& seconds) {
  MustExec(db,
           "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM "
           "pg_sleep(" +
               seconds +
               "); RETURN NULL; END$$;"
               "CREATE TRIGGER slow AFTER INSERT ON traces FOR EACH ROW WHEN (" +
               when + ") EXECUTE FUNCTION slow()");
}

// StreamCopy with the target's COPY in statements of 3 rows; returns the result and leaves both
// transactions open for the caller's checks.
Result<CopyStats> CopyInStatementsOf3(PgConnection& src, PgConnection& dst, const char* format,
                                      size_t backlog_bytes = CopyOptions().backlog_bytes) {
  EXPECT_TRUE(src.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  EXPECT_TRUE(dst.Exec("BEGIN").ok());
  CopyOptions options;
  options.rows_per_statement = 3;
  options.backlog_bytes = backlog_bytes;
  return StreamCopy(src,
                    std::string("COPY (SELECT id, file_id, samples FROM traces WHERE id <= 10 "
                                "ORDER BY id) TO STDOUT") +
                        format,
                    dst, std::string("COPY traces (id, file_id, samples) FROM STDIN") + format,
                    nullptr, options);
}

TEST_F(CopyRowsTest, TargetStatementsOfNRowsCarryEveryRowInBinary) {
  MustExec(dst_, "INSERT INTO files SELECT i, 'f', NULL FROM generate_series(1, 2) i");
  CountStatements(dst_, "traces");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  Result<CopyStats> r = CopyInStatementsOf3(*src, *dst, " WITH (FORMAT binary)");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->rows, 10);
  ASSERT_TRUE(dst->Exec("COMMIT").ok());
  // 3 + 3 + 3 + 1 rows, each statement with its own binary header and trailer.
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM statements"), "4");
  EXPECT_EQ(Count(dst_,
                  "SELECT string_agg(id || ':' || samples::text, ' ' ORDER BY id) "
                  "FROM traces WHERE id IN (1, 3, 4, 10)"),
            "1:{1,0.3333333333333333} 3:{3,1} 4:{4,1.3333333333333333} 10:{10,3.3333333333333335}");
}

TEST_F(CopyRowsTest, AFullBacklogMakesTheSourceWaitAndLosesNothing) {
  MustExec(dst_, "INSERT INTO files SELECT i, 'f', NULL FROM generate_series(1, 2) i");
  // A slow statement end on the target: the source's rows pile up behind it, at most one.
  SlowInsertOf(dst_, "NEW.id % 3 = 0", "0.05");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  Result<CopyStats> r = CopyInStatementsOf3(*src, *dst, " WITH (FORMAT binary)", 1);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->rows, 10);
  ASSERT_TRUE(dst->Exec("COMMIT").ok());
  EXPECT_EQ(Count(dst_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM traces"),
            "1,2,3,4,5,6,7,8,9,10");
}

TEST_F(CopyRowsTest, ASourceErrorWhileTheTargetEndsAStatementLeavesBothUsable) {
  MustExec(dst_, "INSERT INTO files SELECT i, 'f', NULL FROM generate_series(1, 2) i");
  SlowInsertOf(dst_, "NEW.id = 3", "0.2");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  ASSERT_TRUE(src->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  ASSERT_TRUE(dst->Exec("BEGIN").ok());
  CopyOptions options;
  options.rows_per_statement = 3;
  // Rows 1-3 at once (10 kB each: the server sends each as it is made), then, 0.1 s later, while
  // the target runs its first statement's triggers, row 4 and a division by zero at row 5.
  Result<CopyStats> r = StreamCopy(
      *src,
      "COPY (SELECT i, 1, array_fill(1.25::float8, ARRAY[2000]) FROM generate_series(1, 10) i "
      "WHERE (i <> 4 OR pg_sleep(0.1) IS NOT NULL) AND 1 / (5 - i) > -100) TO STDOUT",
      *dst, "COPY traces (id, file_id, samples) FROM STDIN", nullptr, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("source: ERROR: division by zero"));
  EXPECT_TRUE(dst->Exec("ROLLBACK").ok());
  EXPECT_TRUE(src->Exec("ROLLBACK").ok());
  EXPECT_TRUE(dst->Exec("SELECT 1").ok());
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "0");
}

TEST_F(CopyRowsTest, TargetStatementsOfNRowsInTextAndAtAnExactMultiple) {
  MustExec(dst_, "INSERT INTO files SELECT i, 'f', NULL FROM generate_series(1, 2) i");
  MustExec(src_, "DELETE FROM traces WHERE id = 10");  // 9 rows: three full statements
  CountStatements(dst_, "traces");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  Result<CopyStats> r = CopyInStatementsOf3(*src, *dst, "");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->rows, 9);
  ASSERT_TRUE(dst->Exec("COMMIT").ok());
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM statements"), "3");
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "9");
}

TEST_F(CopyRowsTest, ZeroRowsInStatementsOfNRows) {
  MustExec(src_, "DELETE FROM traces");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  Result<CopyStats> r = CopyInStatementsOf3(*src, *dst, " WITH (FORMAT binary)");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->rows, 0);
}

TEST_F(CopyRowsTest, ForeignKeyViolationInALaterStatementNamesItsFirstRow) {
  // Files 1 and 2 exist on the target; trace 8 (file 2) is fine, trace 11 would be file 3.
  MustExec(dst_, "INSERT INTO files SELECT i, 'f', NULL FROM generate_series(1, 2) i");
  MustExec(src_, "UPDATE traces SET file_id = 3 WHERE id = 8");
  auto src = Connect(src_);
  auto dst = Connect(dst_);
  Result<CopyStats> r = CopyInStatementsOf3(*src, *dst, " WITH (FORMAT binary)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("(SQLSTATE 23503)"));
  EXPECT_THAT(r.message(), HasSubstr("Key (file_id)=(3)"));
  EXPECT_THAT(r.message(), HasSubstr("in the COPY statement that began at row 7"));
  EXPECT_TRUE(dst->Exec("ROLLBACK").ok());
  EXPECT_TRUE(src->Exec("ROLLBACK").ok());
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "0");
}

TEST_F(CopyRowsTest, ForeignKeyTargetsGetStatementsOfRowsButStatementTriggersOneStatement) {
  // 12000 traces: with only the foreign key's triggers the target takes them in pieces (the
  // result is the same); a statement-level trigger keeps the copy one statement.
  MustExec(src_, "INSERT INTO traces SELECT i, 1, NULL FROM generate_series(5001, 12000) i");
  CopyRowsStep files = Step("files");
  ASSERT_TRUE(files.Run(env_).ok);
  StepOutcome o = Step("traces").Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(o.message, HasSubstr("copied 12000 rows"));
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "12000");

  MustExec(dst_, "TRUNCATE traces");
  CountStatements(dst_, "traces");
  o = Step("traces").Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "12000");
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM statements"), "1");
}

TEST_F(CopyRowsTest, DifferentColumnTypesUseTextFormat) {
  MustExec(dst_,
           "DROP TABLE traces; DROP TABLE files;"
           "CREATE TABLE files (name text, id int, extra text DEFAULT 'x')");
  CopyRowsStep files = Step("files");
  files.columns = {T("id"), T("name")};
  files.where = T("id <= ${{ params.n }} AND name <> ${{ params.evil }}");
  env_.values["params.n"] = "7";
  env_.values["params.evil"] = "'; DROP TABLE files; --";
  StepOutcome o = files.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(o.message, MatchesRegex("copied 7 rows .* \\(text\\)"));
  EXPECT_EQ(Count(dst_, "SELECT sum(id) || ' ' || min(extra) FROM files"), "28 x");
  EXPECT_EQ(Count(src_, "SELECT count(*) FROM files"), "1000");
}

TEST_F(CopyRowsTest, TruncateEmptiesTheTargetFirst) {
  CopyRowsStep files = FirstFilesWithTruncate();
  ASSERT_TRUE(files.Run(env_).ok);
  StepOutcome again = files.Run(env_);
  ASSERT_TRUE(again.ok) << again.message;
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM files"), "3");
  files.truncate = false;
  StepOutcome dup = files.Run(env_);
  EXPECT_FALSE(dup.ok);
  EXPECT_THAT(dup.message, HasSubstr("duplicate key value violates unique constraint"));
}

// The step's journal record is made durable while it connects (StepEnv::BeforeChanges): once
// per copy, and when that fails nothing is changed (not even the TRUNCATE).
TEST_F(CopyRowsTest, NothingChangesBeforeTheJournalRecordIsDurable) {
  CopyRowsStep files = FirstFilesWithTruncate();
  ASSERT_TRUE(files.Run(env_).ok);
  EXPECT_EQ(env_.before_changes_calls, 1);
  env_.before_changes = [] { return Status::Error("journal write failed: disk full"); };
  files.where = T("id <= 5");
  StepOutcome o = files.Run(env_);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "journal write failed: disk full");
  EXPECT_EQ(env_.before_changes_calls, 2);
  EXPECT_EQ(Count(dst_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM files"), "1,2,3");
}

// One `table` names both sides: the same database would copy it onto itself.
TEST_F(CopyRowsTest, TheSameDatabaseOnBothSidesIsRefusedBeforeConnecting) {
  CopyRowsStep files = Step("files");
  files.to = files.from;
  files.truncate = true;
  StepOutcome o = files.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.message,
            "'from' and 'to' are the same database (prod): copy_rows copies a table from one "
            "database into another");
  EXPECT_EQ(env_.before_changes_calls, 0);
  EXPECT_EQ(Count(src_, "SELECT count(*) FROM files"), "1000");
  // A plan still describes it.
  env_.dry = DryRun::kYes;
  EXPECT_TRUE(files.Run(env_).ok);
}

TEST_F(CopyRowsTest, MatchWithoutSavedValuesFailsClearly) {
  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  StepOutcome o = traces.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.message,
            "step sample-files saved no values of column id (it must be a copy_rows step of this "
            "run that copies that column)");
}

TEST_F(CopyRowsTest, CancelStopsBothSides) {
  CopyRowsStep files = Step("files");
  files.where = T("pg_sleep(0.01) IS NOT NULL");  // 1000 rows: 10 s
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    env_.cancel_flag = true;
  });
  const auto start = std::chrono::steady_clock::now();
  StepOutcome o = files.Run(env_);
  canceller.join();
  EXPECT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("cancelled"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM files"), "0");
}

// The run's backends on `db`: "pid application_name" lines, waiting up to 5 s for closed
// connections' backends to go.
std::string OurBackends(const std::string& db, size_t expected) {
  std::string got;
  for (int i = 0; i < 100; ++i) {
    got = Count(db,
                "SELECT coalesce(string_agg(pid || ' ' || application_name, ','), '') FROM "
                "pg_stat_activity WHERE datname = current_database() AND application_name LIKE "
                "'runbook/%'");
    const size_t n = got.empty() ? 0 : std::count(got.begin(), got.end(), ',') + 1;
    if (n == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return got;
}

TEST_F(CopyRowsTest, KeptConnectionsServeTheNextStepAndCloseAfterTheLastUse) {
  PgPool pool({{"prod", 3}, {"dev", 3}});
  env_.pool = &pool;
  CopyFiles();
  EXPECT_EQ(pool.kept(), 2u);
  const std::string src_backend = OurBackends(src_, 1);
  ASSERT_THAT(src_backend, MatchesRegex("[0-9]+ runbook/run-1/sample-files"));
  const std::string pid = src_backend.substr(0, src_backend.find(' '));

  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  env_.step_id_value = "sample-traces";
  StepOutcome o = traces.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "250");
  // The same backend served the second step, under that step's name.
  EXPECT_EQ(OurBackends(src_, 1), pid + " runbook/run-1/sample-traces");
  EXPECT_EQ(pool.kept(), 2u);
  // The last use of prod closes its kept connection; dev's stays until its own last use.
  pool.Give(env_.databases["prod"], nullptr);
  EXPECT_EQ(pool.kept(), 1u);
  EXPECT_EQ(OurBackends(src_, 0), "");
  EXPECT_THAT(OurBackends(dst_, 1), MatchesRegex("[0-9]+ runbook/run-1/sample-traces"));
}

TEST_F(CopyRowsTest, AKeptConnectionWhoseBackendEndedIsReplaced) {
  PgPool pool({{"prod", 4}, {"dev", 4}});
  env_.pool = &pool;
  CopyFiles();
  ASSERT_EQ(pool.kept(), 2u);
  for (const std::string& db : {src_, dst_}) {
    MustExec(db,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
             "current_database() AND application_name LIKE 'runbook/%'");
    ASSERT_EQ(OurBackends(db, 0), "");
  }
  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  env_.step_id_value = "sample-traces";
  StepOutcome o = traces.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "250");
  EXPECT_EQ(pool.kept(), 2u);
}

TEST_F(CopyRowsTest, AFailedStepKeepsNoConnection) {
  PgPool pool({{"prod", 4}, {"dev", 4}});
  env_.pool = &pool;
  StepOutcome o = Step("traces").Run(env_);  // no parent rows on the target
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(pool.kept(), 0u);
  EXPECT_EQ(OurBackends(src_, 0), "");
  EXPECT_EQ(OurBackends(dst_, 0), "");
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "0");
}

// The source's COPY is sent before the target's TRUNCATE, so that the source server works
// meanwhile: when the TRUNCATE fails, the source's query is stopped and nothing is kept.
TEST_F(CopyRowsTest, ATargetFailingBeforeItsCopyStopsTheSourceAlreadyStarted) {
  PgPool pool({{"prod", 4}, {"dev", 4}});
  env_.pool = &pool;
  CopyRowsStep files = Step("files");  // traces refers to files: TRUNCATE files is refused
  files.truncate = true;
  StepOutcome o = files.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("target: ERROR: cannot truncate a table referenced in a "
                                   "foreign key constraint"));
  EXPECT_EQ(pool.kept(), 0u);
  EXPECT_EQ(OurBackends(src_, 0), "");
  EXPECT_EQ(OurBackends(dst_, 0), "");
  // A later step of the run connects anew and copies.
  files.truncate = false;
  StepOutcome again = files.Run(env_);
  ASSERT_TRUE(again.ok) << again.message;
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM files"), "1000");
}

// The traces foreign key on the target as the catalogs describe it: oid, definition, comment.
std::string TracesForeignKey(const std::string& db) {
  return Count(db,
               "SELECT oid || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' || "
               "convalidated || ' ' || coalesce(obj_description(oid, 'pg_constraint'), '-') FROM "
               "pg_constraint WHERE conrelid = 'traces'::regclass AND contype = 'f'");
}

std::string WithoutOid(const std::string& fk) {
  return fk.substr(fk.find(' ') + 1);
}

TEST_F(CopyRowsTest, ForeignKeysAfterCopyAreCheckedOnceAndComeBackAsTheyWere) {
  MustExec(dst_,
           "ALTER TABLE traces DROP CONSTRAINT traces_file_id_fkey, ADD CONSTRAINT traces_file "
           "FOREIGN KEY (file_id) REFERENCES files(id) ON DELETE CASCADE DEFERRABLE INITIALLY "
           "DEFERRED; COMMENT ON CONSTRAINT traces_file ON traces IS 'file''s traces'");
  const std::string before = TracesForeignKey(dst_);
  CopyFiles();
  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  traces.foreign_keys = ForeignKeyCheck::kAfterCopy;
  StepOutcome o = traces.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(
      o.message,
      MatchesRegex("copied 250 rows .* \\(binary; 1 foreign key checked after the copy\\)"));
  const std::string after = TracesForeignKey(dst_);
  EXPECT_NE(after, before) << "the constraint was not re-created";
  EXPECT_EQ(WithoutOid(after), WithoutOid(before));
  EXPECT_THAT(after, HasSubstr(" true file's traces"));
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "250");
  // It is a working foreign key again.
  EXPECT_EQ(Count(dst_, "DELETE FROM files WHERE id = 10; SELECT count(*) FROM traces"), "245");
}

TEST_F(CopyRowsTest, ForeignKeysAfterCopyStillRejectADanglingRowAndRollBack) {
  const std::string before = TracesForeignKey(dst_);
  CopyRowsStep traces = Step("traces");  // no parent rows on the target
  traces.foreign_keys = ForeignKeyCheck::kAfterCopy;
  StepOutcome o = traces.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("target: checking the foreign keys after the copy: ERROR: "
                                   "insert or update on table \"traces\" violates foreign key "
                                   "constraint \"traces_file_id_fkey\""));
  EXPECT_THAT(o.message, HasSubstr("(SQLSTATE 23503)"));
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM traces"), "0");
  EXPECT_EQ(TracesForeignKey(dst_), before);  // rolled back: the very same constraint
}

TEST_F(CopyRowsTest, ANotValidForeignKeyStaysAndIsCheckedPerRow) {
  // Re-created NOT VALID it would not check the copied rows at all: it is left in place.
  MustExec(dst_,
           "ALTER TABLE traces DROP CONSTRAINT traces_file_id_fkey, ADD CONSTRAINT traces_file "
           "FOREIGN KEY (file_id) REFERENCES files(id) NOT VALID");
  const std::string before = TracesForeignKey(dst_);
  CopyRowsStep traces = Step("traces");
  traces.foreign_keys = ForeignKeyCheck::kAfterCopy;
  StepOutcome o = traces.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("target: ERROR: insert or update on table \"traces\" violates "
                                   "foreign key constraint \"traces_file\""));
  EXPECT_EQ(TracesForeignKey(dst_), before);
}

TEST_F(CopyRowsTest, ForeignKeysAfterCopyNeedTheOwnerElseArePerRowWithAWarning) {
  MustExec(dst_,
           "DO $$BEGIN CREATE ROLE copier LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
           "GRANT SELECT, INSERT ON files, traces TO copier");
  CopyFiles();
  const std::string before = TracesForeignKey(dst_);
  DbTarget dev = Pg().Target(dst_, "dev");
  dev.conninfo.emplace_back("user", "copier");  // the later user= wins
  env_.databases["dev"] = dev;
  CopyRowsStep traces = Step("traces");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  traces.foreign_keys = ForeignKeyCheck::kAfterCopy;
  StepOutcome o = traces.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(o.message, MatchesRegex("copied 250 rows .* \\(binary\\)"));
  EXPECT_THAT(env_.out.Text(), HasSubstr("warning: foreign keys of traces on dev are checked per "
                                         "row: after_copy re-creates them, which only the "
                                         "table's owner may do"));
  EXPECT_EQ(TracesForeignKey(dst_), before);
}

TEST_F(CopyRowsTest, DryRunDescribesAndCopiesNothing) {
  env_.dry = DryRun::kYes;
  CopyRowsStep files = Step("files");
  files.order_by = T("id");
  files.every = T("10");
  files.limit = T("5");
  StepOutcome o = files.Run(env_);
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(Count(dst_, "SELECT count(*) FROM files"), "0");
  EXPECT_THAT(env_.out.Text(), HasSubstr("row_number() OVER (ORDER BY id)"));

  CopyRowsStep traces = Step("traces");
  traces.foreign_keys = ForeignKeyCheck::kAfterCopy;
  ASSERT_TRUE(traces.Run(env_).ok);
  EXPECT_THAT(env_.out.Text(), HasSubstr("on dev (one transaction): ALTER TABLE traces DROP <its "
                                         "foreign keys>; COPY traces (*) FROM STDIN; ALTER TABLE "
                                         "traces ADD <them again> (each checked once)"));
}

}  // namespace
}  // namespace runbook
