// The sql step and the sql guard against a real server.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "steps/sql.h"
#include "steps/sql_guard.h"
#include "tests/integration/pg_harness.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

using testing::CreateTestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MustExec;
using testing::Pg;

class SqlStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = CreateTestDb();
    env_.databases["db"] = Pg().Target(db_, "db");
  }
  static SqlGuard Guard(Text query, std::optional<Text> expect,
                        std::optional<int64_t> expect_rows) {
    SqlGuard g;
    g.db = {"db", {}};
    g.query = std::move(query);
    g.expect = std::move(expect);
    g.expect_rows = expect_rows;
    return g;
  }
  SqlStep Step(const std::string& query) {
    SqlStep s;
    s.db = {"db", {}};
    s.query = T(query);
    return s;
  }
  std::string db_;
  FakeStepEnv env_;
};

TEST_F(SqlStepTest, ShowTablePrintsLikePsql) {
  SqlStep s = Step(
      "SELECT * FROM (VALUES (1, 'alice', NULL), (22, 'bob', 'x')) AS t(id, name, note) "
      "ORDER BY id");
  s.show = ShowMode::kTable;
  StepOutcome o = s.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "SELECT 2");
  EXPECT_THAT(env_.out.Lines(Stream::kStdout), ElementsAre(" id | name  | note",   //
                                                           "----+-------+------",  //
                                                           "  1 | alice |",        //
                                                           " 22 | bob   | x",      //
                                                           "(2 rows)"));
}

TEST_F(SqlStepTest, TemplateValuesAreBindParametersInEveryStatement) {
  MustExec(db_, "CREATE TABLE x (v text)");
  env_.values["params.v"] = "'; DROP TABLE x; --";
  env_.values["params.w"] = "second";
  SqlStep s = Step(
      "INSERT INTO x VALUES (${{ params.v }});\n"
      "INSERT INTO x VALUES (${{ params.w }}), (${{ params.v }});\n"
      "SELECT count(*) FROM x");
  s.expect = T("3");
  StepOutcome o = s.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "3 statements, last: SELECT 1");
  EXPECT_THAT(env_.out.Lines(Stream::kInfo),
              ElementsAre("statement 1 of 3: INSERT 0 1", "statement 2 of 3: INSERT 0 2",
                          "statement 3 of 3: SELECT 1"));
  PgResult r = MustExec(db_, "SELECT v FROM x ORDER BY v");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0][0], std::optional<std::string>("'; DROP TABLE x; --"));
}

TEST_F(SqlStepTest, ErrorNamesStatementAndLineWithCaret) {
  SqlStep s = Step("SELECT 1;\nSELECT 2;\nSELECT nope\n  FROM pg_class");
  StepOutcome o = s.Run(env_);
  ASSERT_FALSE(o.ok);
  EXPECT_EQ(o.message,
            "statement 3 of 3 failed: ERROR: column \"nope\" does not exist (SQLSTATE 42703)\n"
            "LINE 3: SELECT nope\n"
            "               ^");
}

TEST_F(SqlStepTest, ExpectMismatchFails) {
  SqlStep s = Step("SELECT 1 = 2");
  s.expect = T("true");
  StepOutcome o = s.Run(env_);
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.message, "expected true, got f");
}

TEST_F(SqlStepTest, RunsAFile) {
  const std::string path = ::testing::TempDir() + "/script.sql";
  std::ofstream(path) << "CREATE TABLE f (id int);\n-- a comment; with a semicolon\n"
                         "INSERT INTO f SELECT generate_series(1, 5);\n";
  SqlStep s;
  s.db = {"db", {}};
  s.file = T(path);
  StepOutcome o = s.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(MustExec(db_, "SELECT count(*) FROM f").rows[0][0], std::optional<std::string>("5"));
}

TEST_F(SqlStepTest, DryRunExecutesNothing) {
  MustExec(db_, "CREATE TABLE d (id int)");
  env_.dry = DryRun::kYes;
  env_.values["secrets.pw"] = "hunter2";
  env_.secrets.insert("secrets.pw");
  StepOutcome o = Step("DROP TABLE d; SELECT ${{ secrets.pw }}").Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(MustExec(db_, "SELECT count(*) FROM d").rows.size(), 1u);
  EXPECT_THAT(env_.out.Text(), HasSubstr("DROP TABLE d; SELECT '***'"));
  EXPECT_THAT(env_.out.Text(), ::testing::Not(HasSubstr("hunter2")));
}

TEST_F(SqlStepTest, NoticesReachTheStepOutput) {
  StepOutcome o = Step("DO $$BEGIN RAISE NOTICE 'working; really'; END$$").Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_THAT(env_.out.Lines(Stream::kInfo), ElementsAre("NOTICE: working; really"));
}

TEST_F(SqlStepTest, UnreachableDatabaseFailsTheStep) {
  env_.databases["db"] = {
      "db",
      {{"host", "127.0.0.1"}, {"port", "1"}, {"dbname", "x"}, {"connect_timeout", "2"}},
      "",
      ""};
  StepOutcome o = Step("SELECT 1").Run(env_);
  EXPECT_FALSE(o.ok);
  EXPECT_THAT(o.message, HasSubstr("cannot connect to database db"));
}

class SqlGuardTest : public SqlStepTest {};

TEST_F(SqlGuardTest, HoldsOnTrue) {
  SqlGuard g = Guard(T("SELECT count(*) = 0 FROM pg_stat_activity WHERE false"), {}, {});
  GuardResult r = g.Evaluate(env_);
  EXPECT_TRUE(r.held) << r.summary;
}

TEST_F(SqlGuardTest, FailingGuardExplainsWithEvidence) {
  MustExec(db_, "CREATE TABLE orphans (id int); INSERT INTO orphans VALUES (1), (2)");
  SqlGuard g = Guard(T("SELECT count(*) FROM orphans"), T("0"), {});
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.summary, "sql guard on db: expected 0, got 2");
  EXPECT_THAT(r.evidence,
              ElementsAre("query: SELECT count(*) FROM orphans", "expected: 0", "got: 2"));
}

TEST_F(SqlGuardTest, ExpectRows) {
  SqlGuard g = Guard(T("SELECT generate_series(1, 3)"), {}, 3);
  EXPECT_TRUE(g.Evaluate(env_).held);
  g.expect_rows = 2;
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.summary, "sql guard on db: expected 2 rows, got 3 rows");
}

TEST_F(SqlGuardTest, RunsReadOnlyEvenIfTheQueryWrites) {
  MustExec(db_, "CREATE TABLE w (id int)");
  SqlGuard g = Guard(T("INSERT INTO w VALUES (1) RETURNING true"), {}, {});
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.evidence, ::testing::Contains(HasSubstr("read-only transaction")));
  EXPECT_EQ(MustExec(db_, "SELECT count(*) FROM w").rows[0][0], std::optional<std::string>("0"));
}

TEST_F(SqlGuardTest, CannotEscapeTheReadOnlyTransaction) {
  MustExec(db_, "CREATE TABLE w (id int)");
  SqlGuard g = Guard(T("SELECT true; COMMIT; INSERT INTO w VALUES (1)"), {}, {});
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.evidence, ::testing::Contains(HasSubstr("multiple commands")));
  EXPECT_EQ(MustExec(db_, "SELECT count(*) FROM w").rows[0][0], std::optional<std::string>("0"));
}

TEST_F(SqlGuardTest, UnreachableDatabaseFailsTheGuard) {
  env_.databases["db"] = {"db", {{"host", "127.0.0.1"}, {"port", "1"}, {"dbname", "x"}}, "", ""};
  SqlGuard g = Guard(T("SELECT true"), {}, {});
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.summary, HasSubstr("cannot be evaluated: cannot connect to database db"));
}

}  // namespace
}  // namespace runbook
