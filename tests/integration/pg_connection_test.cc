// engine/pg against a real server: connecting, errors, cancel, notices, parameters.
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pg.h"
#include "tests/integration/pg_harness.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

using testing::Connect;
using testing::CreateTestDb;
using ::testing::HasSubstr;
using testing::MustExec;
using ::testing::Not;
using testing::Pg;

TEST(PgConnectionTest, ConnectsWithPasswordAndUri) {
  const std::string db = CreateTestDb();
  auto c = PgConnection::Connect(Pg().PasswordTarget(db, "pw-secret"), "runbook/r1/s1");
  ASSERT_TRUE(c.ok()) << c.message();
  Result<PgResult> r = (**c).Exec("SELECT current_user, current_setting('application_name')");
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->rows[0][0], std::optional<std::string>("pwuser"));
  EXPECT_EQ(r->rows[0][1], std::optional<std::string>("runbook/r1/s1"));
  EXPECT_GT((**c).backend_pid(), 0);
}

TEST(PgConnectionTest, WrongPasswordFailsWithoutShowingIt) {
  const std::string db = CreateTestDb();
  auto c = PgConnection::Connect(Pg().PasswordTarget(db, "not-the-password-xyz"), "t");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.message(), HasSubstr("cannot connect to database pwdb"));
  EXPECT_THAT(c.message(), HasSubstr("password authentication failed"));
  EXPECT_THAT(c.message(), Not(HasSubstr("not-the-password-xyz")));
}

TEST(PgConnectionTest, ErrorShowsSqlstateAndCaretUnderPosition) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  Result<PgResult> r = c->Exec("SELECT 1\nFROM nowhere_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.message(),
            "ERROR: relation \"nowhere_table\" does not exist (SQLSTATE 42P01)\n"
            "LINE 2: FROM nowhere_table\n"
            "             ^");
}

TEST(PgConnectionTest, ErrorShowsDetailAndHint) {
  const std::string db = CreateTestDb();
  MustExec(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
  auto c = Connect(db);
  Result<PgResult> r = c->Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("(SQLSTATE 23505)"));
  EXPECT_THAT(r.message(), HasSubstr("\nDETAIL: Key (id)=(1) already exists."));
}

TEST(PgConnectionTest, CancelTokenStopsPgSleepWithinOneSecond) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  std::atomic<bool> flag{false};
  c->SetInterrupt({CancelToken(&flag), std::nullopt});
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    flag = true;
  });
  const auto start = std::chrono::steady_clock::now();
  Result<PgResult> r = c->Exec("SELECT pg_sleep(60)");
  const auto took = std::chrono::steady_clock::now() - start;
  setter.join();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("cancelled"));
  EXPECT_LT(took, std::chrono::milliseconds(1300));  // 300 ms before the cancel + under 1 s
}

TEST(PgConnectionTest, DeadlineTimesOutTheQuery) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  c->SetInterrupt(
      {CancelToken(), std::chrono::steady_clock::now() + std::chrono::milliseconds(200)});
  const auto start = std::chrono::steady_clock::now();
  Result<PgResult> r = c->Exec("SELECT pg_sleep(60)");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("timed out"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(PgConnectionTest, CancelFromAnotherThread) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    c->Cancel();
  });
  Result<PgResult> r = c->Exec("SELECT pg_sleep(60)");
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("57014"));
}

TEST(PgConnectionTest, NoticesGoToTheSink) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  RecordingSink sink;
  c->SetNoticeSink(&sink);
  ASSERT_TRUE(c->Exec("DO $$BEGIN RAISE NOTICE 'hello %', 42; END$$").ok());
  EXPECT_THAT(sink.Lines(Stream::kInfo), ::testing::ElementsAre("NOTICE: hello 42"));
}

TEST(PgConnectionTest, ParameterReachesTheServerAsData) {
  const std::string db = CreateTestDb();
  MustExec(db, "CREATE TABLE x (v text)");
  auto c = Connect(db);
  const std::string evil = "'; DROP TABLE x; --";
  Result<PgResult> r = c->Exec("INSERT INTO x VALUES ($1)", {evil});
  ASSERT_TRUE(r.ok()) << r.message();
  PgResult back = MustExec(db, "SELECT v FROM x");
  ASSERT_EQ(back.rows.size(), 1u);
  EXPECT_EQ(back.rows[0][0], std::optional<std::string>(evil));
}

TEST(PgConnectionTest, NullsAndColumnNames) {
  const std::string db = CreateTestDb();
  auto c = Connect(db);
  Result<PgResult> r = c->Exec("SELECT NULL::int AS a, 'x' AS b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(r->rows[0][0].has_value());
  EXPECT_EQ(r->command_tag, "SELECT 1");
}

TEST(PgConnectionTest, QuotingHelpers) {
  auto c = Connect("postgres");
  EXPECT_EQ(c->QuoteIdentifier("My \"T\""), "\"My \"\"T\"\"\"");
  EXPECT_EQ(c->QuoteLiteral("it's"), "'it''s'");
}

}  // namespace
}  // namespace runbook
