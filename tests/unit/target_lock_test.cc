#include "engine/target_lock.h"

#include <gtest/gtest.h>

#include "engine/parse.h"
#include "steps/registry.h"

namespace runbook {
namespace {

Runbook Load(const std::string& text) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("rb.yaml", text, BuiltinKinds(), &d);
  EXPECT_TRUE(rb.has_value() && d.ok());
  return rb ? std::move(*rb) : Runbook{};
}

TEST(TargetLockTest, LockNameIsTheRunbookNameUnlessSet) {
  EXPECT_EQ(Load("name: a\nsteps:\n  - {id: s, run: 'true'}\n").LockName(), "a");
  EXPECT_EQ(Load("name: a\nlock: shared-x\nsteps:\n  - {id: s, run: 'true'}\n").LockName(),
            "shared-x");
}

TEST(TargetLockTest, AnInvalidLockNameIsAnErrorAtItsPlace) {
  Diagnostics d;
  ParseRunbook("rb.yaml", "name: a\nlock: Bad_Name\nsteps:\n  - {id: s, run: 'true'}\n",
               BuiltinKinds(), &d);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.errors()[0].ToString().find("rb.yaml:2:7"), std::string::npos)
      << d.errors()[0].ToString();
  EXPECT_NE(d.errors()[0].ToString().find("invalid lock name 'Bad_Name'"), std::string::npos);
}

TEST(TargetLockTest, UsedDatabasesAreThoseStepsGuardsAndTemplatesName) {
  Runbook rb = Load(R"(name: a
databases:
  unused: {conninfo: "dbname=u"}
  guarded: {conninfo: "dbname=g"}
  queried: {conninfo: "dbname=q"}
  templated: {conninfo: "dbname=t"}
  final: {conninfo: "dbname=f"}
steps:
  - id: s
    guards:
      - postgres_idle: {db: guarded}
    sql: {db: queried, query: "SELECT 1"}
  - id: r
    env: {CONN: "${{ databases.templated.conninfo }}"}
    run: psql "$CONN"
finally:
  - id: f
    cancel_queries: {db: final}
)");
  EXPECT_EQ(UsedDatabases(rb),
            (std::vector<std::string>{"guarded", "queried", "templated", "final"}));
}

TEST(TargetLockTest, TheKeyIsStableAcrossVersions) {
  // Runs of different engine versions must exclude each other: the key never changes (FNV-1a 64
  // of "runbook:jane-dev", computed apart).
  EXPECT_EQ(AdvisoryLockKey("clone-prod"), AdvisoryLockKey("clone-prod"));
  EXPECT_NE(AdvisoryLockKey("clone-prod"), AdvisoryLockKey("upgrade-dev"));
  EXPECT_EQ(AdvisoryLockKey("jane-dev"), static_cast<int64_t>(0xb529bcdaabf6ac1fULL));
}

TEST(TargetLockTest, TheApplicationNameFitsTheServerAndDescribesTheHolder) {
  const std::string name = LockApplicationName("20261207T150001Z-3fa9", 4242, "alice",
                                               "a-very-long-host-name.example.org");
  EXPECT_LE(name.size(), 63u);
  EXPECT_EQ(name.rfind("runbook/20261207T150001Z-3fa9 lock 4242 alice@a-very", 0), 0u) << name;
  TargetLockHolder h;
  h.application_name = name;
  h.backend_start = "2026-12-07T15:00:01Z";
  h.db_user = "jane";
  h.client_addr = "10.0.0.5";
  EXPECT_EQ(h.Describe().substr(0, 6), "alice@");
  EXPECT_NE(h.Describe().find("(pid 4242, run 20261207T150001Z-3fa9, since 2026-12-07T15:00:01Z, "
                              "role jane from 10.0.0.5)"),
            std::string::npos)
      << h.Describe();
  TargetLockHolder other;
  other.application_name = "psql";
  other.backend_pid = 77;
  EXPECT_EQ(other.Describe(), "application 'psql' (backend pid 77)");
}

}  // namespace
}  // namespace runbook
