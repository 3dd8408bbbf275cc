// postgres_idle and cancel_queries against real sessions on a real server.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "steps/cancel_queries.h"
#include "steps/postgres_idle.h"
#include "tests/integration/pg_harness.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

using testing::Connect;
using ::testing::Contains;
using testing::CreateTestDb;
using ::testing::HasSubstr;
using testing::MustExec;
using testing::Pg;
using ::testing::SizeIs;

// A session running a query on a thread until the test ends (then cancelled).
class BusySession {
 public:
  BusySession(const std::string& db, const std::string& application, const std::string& setup,
              const std::string& query) {
    conn_ = Connect(db, application);
    if (!setup.empty()) {
      Result<PgResult> r = conn_->Exec(setup);
      EXPECT_TRUE(r.ok()) << r.message();
    }
    pid_ = conn_->backend_pid();
    thread_ = std::thread([this, query] { result_ = conn_->Exec(query); });
  }
  ~BusySession() {
    conn_->Cancel();
    thread_.join();
  }
  int pid() const { return pid_; }
  // Waits for the thread's query to end (it was cancelled from elsewhere).
  Result<PgResult> Join() {
    thread_.join();
    thread_ = std::thread([] {});
    return result_;
  }

 private:
  std::unique_ptr<PgConnection> conn_;
  int pid_ = 0;
  std::thread thread_;
  Result<PgResult> result_ = Result<PgResult>::Error("not finished");
};

// Waits until `n` backends other than ours run pg_sleep on `db`.
void WaitForSleepers(const std::string& db, int n) {
  for (int i = 0; i < 200; ++i) {  // 10 s
    PgResult r = MustExec(db,
                          "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                          "query LIKE '%pg_sleep%' AND pid <> pg_backend_pid() AND "
                          "datname = current_database()");
    if (r.rows.size() == 1 && r.rows[0][0] == std::optional<std::string>(std::to_string(n))) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "the sleeping sessions did not show up";
}

PostgresIdleGuard Idle(int max_active, std::vector<std::string> ignore_applications) {
  PostgresIdleGuard g;
  g.db = {"db", {}};
  g.max_active = max_active;
  g.ignore_applications = std::move(ignore_applications);
  return g;
}

CancelQueriesStep Cancel(std::optional<Text> older_than, std::optional<Text> application_name) {
  CancelQueriesStep s;
  s.db = {"db", {}};
  s.older_than = std::move(older_than);
  s.application_name = std::move(application_name);
  return s;
}

class ActivityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = CreateTestDb();
    env_.databases["db"] = Pg().Target(db_, "db");
  }
  std::string db_;
  FakeStepEnv env_;
};

TEST_F(ActivityTest, IdleDatabaseHolds) {
  GuardResult r = Idle(0, {}).Evaluate(env_);
  EXPECT_TRUE(r.held) << r.summary;
  EXPECT_EQ(r.summary, "postgres is idle on db (0 other active backends)");
}

TEST_F(ActivityTest, BusyDatabaseBlocksAndNamesThePid) {
  BusySession busy(db_, "psql", "", "SELECT pg_sleep(30) /* long report */");
  WaitForSleepers(db_, 1);
  GuardResult r = Idle(0, {}).Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.summary, "postgres is busy on db: 1 other active backend (at most 0 allowed)");
  ASSERT_THAT(r.evidence, SizeIs(1));
  EXPECT_THAT(r.evidence[0], HasSubstr("pid " + std::to_string(busy.pid()) + " user postgres"));
  EXPECT_THAT(r.evidence[0], HasSubstr("application 'psql' active for "));
  EXPECT_THAT(r.evidence[0], HasSubstr(": SELECT pg_sleep(30) /* long report */"));
  // Tolerated by max_active or by ignore_applications.
  EXPECT_TRUE(Idle(1, {}).Evaluate(env_).held);
  EXPECT_TRUE(Idle(0, {"psql"}).Evaluate(env_).held);
}

TEST_F(ActivityTest, ConnectionsOfOurRunDoNotCount) {
  BusySession ours(db_, "runbook/run-1/other-step", "", "SELECT pg_sleep(30)");
  WaitForSleepers(db_, 1);
  EXPECT_TRUE(Idle(0, {}).Evaluate(env_).held);
  env_.run_id_value = "run-2";  // another run's connection counts
  EXPECT_FALSE(Idle(0, {}).Evaluate(env_).held);
}

// Another session's query text reaches the operator's terminal through the guard's evidence:
// the real binary shows its escape sequences escaped, so it cannot clear the screen.
TEST_F(ActivityTest, AQueryTextsEscapeSequenceIsShownEscaped) {
  BusySession busy(db_, "psql", "", "SELECT pg_sleep(30) /* \x1b[2J\x1b]0;pwned\x07 */");
  WaitForSleepers(db_, 1);
  const std::string dir = ::testing::TempDir() + "/escape-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream rb(dir + "/rb.yaml");
    rb << "name: escapes\ndatabases:\n  db: {conninfo: \""
       << FormatConninfo(Pg().Target(db_).conninfo, false)
       << "\"}\nsteps:\n  - id: a\n    guards: [{postgres_idle: {db: db}}]\n    run: 'true'\n";
  }
  const std::string cmd = "RUNBOOK_STATE_DIR='" + dir + "/state' '" + RUNBOOK_BINARY + "' plan '" +
                          dir + "/rb.yaml' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  std::filesystem::remove_all(dir);
  EXPECT_THAT(out, HasSubstr("/* \\x1b[2J\\x1b]0;pwned\\x07 */"));
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST_F(ActivityTest, UnreachableDatabaseFailsTheGuard) {
  env_.databases["db"] = {"db", {{"host", "127.0.0.1"}, {"port", "1"}, {"dbname", "x"}}, "", ""};
  GuardResult r = Idle(0, {}).Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.summary, HasSubstr("postgres_idle on db cannot be evaluated: cannot connect"));
}

TEST_F(ActivityTest, CancelsAReaderButNotASessionThatHasWritten) {
  MustExec(db_, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
  BusySession reader(db_, "report", "", "SELECT pg_sleep(30)");
  BusySession writer(db_, "worker", "BEGIN; UPDATE t SET id = 2", "SELECT pg_sleep(30)");
  WaitForSleepers(db_, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CancelQueriesStep step = Cancel(T("1s"), {});
  StepOutcome o = step.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "cancelled 1 query on db");
  Result<PgResult> cancelled = reader.Join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_THAT(cancelled.message(), HasSubstr("canceling statement due to user request"));
  const std::vector<std::string> lines = env_.out.Lines(Stream::kStdout);
  ASSERT_THAT(lines, SizeIs(1));
  EXPECT_THAT(lines[0], HasSubstr("cancelled pid " + std::to_string(reader.pid()) +
                                  " user postgres application 'report' running "));
  EXPECT_THAT(lines[0], HasSubstr(": SELECT pg_sleep(30)"));
  // The writer still runs.
  PgResult still = MustExec(
      db_, "SELECT state FROM pg_stat_activity WHERE pid = " + std::to_string(writer.pid()));
  EXPECT_EQ(still.rows.at(0)[0], std::optional<std::string>("active"));
}

TEST_F(ActivityTest, OlderThanAndApplicationFilter) {
  BusySession a(db_, "report-1", "", "SELECT pg_sleep(30)");
  BusySession b(db_, "batch", "", "SELECT pg_sleep(30)");
  WaitForSleepers(db_, 2);
  CancelQueriesStep young = Cancel(T("1h"), {});
  StepOutcome o = young.Run(env_);
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.message, "cancelled 0 queries on db");
  CancelQueriesStep by_app = Cancel({}, T("report-*"));
  o = by_app.Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "cancelled 1 query on db");
  EXPECT_FALSE(a.Join().ok());
}

TEST_F(ActivityTest, DryRunListsButCancelsNothing) {
  BusySession s(db_, "report", "", "SELECT pg_sleep(30)");
  WaitForSleepers(db_, 1);
  env_.dry = DryRun::kYes;
  StepOutcome o = Cancel({}, {}).Run(env_);
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.message, "would cancel 1 query on db");
  EXPECT_THAT(env_.out.Lines(Stream::kStdout),
              Contains(HasSubstr("would cancel pid " + std::to_string(s.pid()))));
  WaitForSleepers(db_, 1);  // still running
}

TEST_F(ActivityTest, PlanObservationListsWhatWouldBeCancelledAndCancelsNothing) {
  MustExec(db_, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
  CancelQueriesStep step = Cancel({}, {});
  EXPECT_THAT(step.Observe(env_), ::testing::ElementsAre("no query would be cancelled now"));
  BusySession reader(db_, "report", "", "SELECT pg_sleep(30)");
  BusySession writer(db_, "worker", "BEGIN; UPDATE t SET id = 2", "SELECT pg_sleep(30)");
  WaitForSleepers(db_, 2);
  const std::vector<std::string> lines = step.Observe(env_);
  ASSERT_THAT(lines, SizeIs(1));  // the writer is not listed
  EXPECT_THAT(lines[0], HasSubstr("would cancel now pid " + std::to_string(reader.pid()) +
                                  " user postgres application 'report' running "));
  WaitForSleepers(db_, 2);  // both still running
  env_.databases["db"] = {"db", {{"host", "127.0.0.1"}, {"port", "1"}, {"dbname", "x"}}, "", ""};
  EXPECT_THAT(step.Observe(env_)[0], HasSubstr("cannot tell now: "));
}

}  // namespace
}  // namespace runbook
