// engine/pg_store's schema against a real server: created, or upgraded from version 1 by a writer
// (who started each run and the steps chosen filled from the runs' records), read as it is by a
// reader (without who and steps), and the SQL for a DBA applied to an empty database, to a
// version 1 store, and twice.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/pg_store.h"
#include "engine/run_state.h"
#include "tests/integration/pg_harness.h"

namespace runbook {
namespace {

using testing::Connect;
using testing::CreateTestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MustExec;
using testing::Pg;

std::string Url(const std::string& db, const std::string& user = "postgres") {
  return "host=" + Pg().dir + " port=" + std::to_string(Pg().port) + " dbname=" + db +
         " user=" + user;
}

std::string Version(const std::string& db) {
  PgResult r = MustExec(db, "SELECT value FROM runbook.meta WHERE key = 'schema_version'");
  return r.rows.empty() ? "" : r.rows[0][0].value_or("");
}

// A run's first record, as the journal writes it.
nlohmann::json RunStarted(const std::string& run_id, const std::string& user,
                          const std::string& host, const StepSelection& selection) {
  RunStartedInfo info;
  info.run_id = run_id;
  info.runbook = "nightly";
  info.path = "/srv/runbooks/nightly.yaml";
  info.step_ids = {"a", "b", "c"};
  info.selection = selection;
  info.pid = 4242;
  info.user = user;
  info.host = host;
  nlohmann::json r = RunStartedRecord(info);
  r["seq"] = 1;
  r["ts"] = "2026-12-07T01:00:0" + run_id.substr(run_id.size() - 1) + ".000Z";
  return r;
}

// A store as an engine of schema version 1 left it: migration 1 alone, version 1, and runs
// written as that engine wrote them (no column for who started them).
void MakeV1Store(const std::string& db, const std::vector<nlohmann::json>& first_records) {
  MustExec(db, StoreMigrations()[0] +
                   "INSERT INTO runbook.meta (key, value) VALUES ('schema_version', '1');");
  auto c = Connect(db);
  ASSERT_NE(c, nullptr);
  for (const nlohmann::json& r : first_records) {
    auto done = c->ExecOne(
        "WITH run AS (INSERT INTO runbook.runs (run_id, runbook, started, steps) "
        "VALUES ($1, 'nightly', $2::timestamptz, 3) RETURNING run_id) "
        "INSERT INTO runbook.records (run_id, seq, record) SELECT run_id, 1, $3::json FROM run",
        {r["run_id"].get<std::string>(), r["ts"].get<std::string>(), r.dump()});
    ASSERT_TRUE(done.ok()) << done.message();
  }
}

// Two runs of version 1: alice's with --only a,b, and one from a journal that did not record its
// user, with --from b --rerun a.
void MakeV1StoreWithRuns(const std::string& db) {
  MakeV1Store(db, {RunStarted("20261207T010001Z-aaa1", "alice", "ops1", {{"a", "b"}, "", {}}),
                   RunStarted("20261207T010002Z-bbb2", "", "ops2", {{}, "b", {"a"}})});
}

// A reader of a version 1 store lists its runs, without who started them and the steps chosen.
void ExpectRunsReadAsVersion1(PgStore& store) {
  auto runs = store.ListRuns("");
  ASSERT_TRUE(runs.ok()) << runs.message();
  ASSERT_EQ(runs->size(), 2u);
  for (const StoredRun& r : *runs) {
    EXPECT_EQ(r.runbook, "nightly");
    EXPECT_EQ(r.user + r.host + r.selection.Describe(), "");
  }
  EXPECT_EQ((*runs)[0].run_id, "20261207T010001Z-aaa1");
}

// Once upgraded: who started them and the steps chosen, as their records say.
void ExpectRunsOfV1Store(PgStore& store) {
  auto runs = store.ListRuns("");
  ASSERT_TRUE(runs.ok()) << runs.message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].user, "alice");
  EXPECT_EQ((*runs)[0].host, "ops1");
  EXPECT_EQ((*runs)[0].selection.Describe(), "--only a,b");
  EXPECT_EQ((*runs)[1].user, "");
  EXPECT_EQ((*runs)[1].host, "ops2");
  EXPECT_EQ((*runs)[1].selection.Describe(), "--from b --rerun a");
}

TEST(PgStoreSchemaTest, AWriterUpgradesAVersion1StoreFillingWhoAndStepsFromTheRecords) {
  const std::string db = CreateTestDb();
  MakeV1StoreWithRuns(db);
  auto store = PgStore::Open(Url(db), /*create=*/true);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ(Version(db), "2");
  PgResult cols = MustExec(
      db, "SELECT started_user, started_host, selection::text FROM runbook.runs ORDER BY run_id");
  ASSERT_EQ(cols.rows.size(), 2u);
  EXPECT_EQ(cols.rows[0][0], std::optional<std::string>("alice"));
  EXPECT_EQ(cols.rows[0][1], std::optional<std::string>("ops1"));
  EXPECT_EQ(cols.rows[0][2], std::optional<std::string>(R"({"only": ["a", "b"]})"));
  EXPECT_EQ(cols.rows[1][2], std::optional<std::string>(R"({"from": "b", "rerun": ["a"]})"));
  ExpectRunsOfV1Store(**store);
  // The runs it writes now have them too.
  ASSERT_TRUE(
      (*store)->StartRun(RunStarted("20261207T010003Z-ccc3", "bob", "ops3", {{}, "c", {}})).ok());
  auto latest = (*store)->LatestRun("nightly");
  ASSERT_TRUE(latest.ok() && *latest) << latest.message();
  EXPECT_EQ((*latest)->user + "@" + (*latest)->host + " " + (*latest)->selection.Describe(),
            "bob@ops3 --from c");
}

TEST(PgStoreSchemaTest, AReaderReadsAVersion1StoreAsItIsWithoutUpgradingIt) {
  const std::string db = CreateTestDb();
  MakeV1StoreWithRuns(db);
  auto store = PgStore::Open(Url(db), /*create=*/false);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ((*store)->schema_version(), 1);
  ExpectRunsReadAsVersion1(**store);
  auto one = (*store)->FindRun("20261207T010001Z-aaa1");
  ASSERT_TRUE(one.ok() && *one) << one.message();
  EXPECT_EQ((*one)->steps, 3);
  auto records = (*store)->Records("20261207T010001Z-aaa1");
  ASSERT_TRUE(records.ok()) << records.message();
  EXPECT_EQ(ReplayJournal(*records).user, "alice");
  EXPECT_EQ(Version(db), "1");
  EXPECT_EQ(MustExec(db,
                     "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                     "'runbook' AND column_name = 'started_user'")
                .rows[0][0],
            std::optional<std::string>("0"));
}

TEST(PgStoreSchemaTest, ANewWriterRecordsWhoStartedEachRunAndTheStepsChosen) {
  const std::string db = CreateTestDb();
  auto store = PgStore::Open(Url(db), /*create=*/true);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ(Version(db), "2");
  ASSERT_TRUE(
      (*store)->StartRun(RunStarted("20261207T010001Z-aaa1", "alice", "ops1", {{}, "", {}})).ok());
  nlohmann::json finished = {{"type", "run_finished"},
                             {"seq", 2},
                             {"ts", "2026-12-07T01:00:09.000Z"},
                             {"outcome", "success"},
                             {"exit_code", 0}};
  auto imported = (*store)->ImportRun(
      {RunStarted("20261207T010002Z-bbb2", "bob", "ops2", {{"c"}, "", {}}), finished}, {});
  ASSERT_TRUE(imported.ok() && *imported) << imported.message();
  auto runs = (*store)->ListRuns("nightly");
  ASSERT_TRUE(runs.ok()) << runs.message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].user + "@" + (*runs)[0].host, "alice@ops1");
  EXPECT_TRUE((*runs)[0].selection.empty());
  EXPECT_EQ((*runs)[1].user + "@" + (*runs)[1].host, "bob@ops2");
  EXPECT_THAT((*runs)[1].selection.only, ElementsAre("c"));
}

TEST(PgStoreSchemaTest, TheSqlForADbaMayBeAppliedTwiceToAnEmptyDatabaseAndToAVersion1Store) {
  const std::string empty = CreateTestDb("_empty");
  MustExec(empty, StoreSchemaSql());
  MustExec(empty, StoreSchemaSql());
  EXPECT_EQ(Version(empty), "2");
  auto fresh = PgStore::Open(Url(empty), /*create=*/false);
  ASSERT_TRUE(fresh.ok()) << fresh.message();

  const std::string v1 = CreateTestDb("_v1");
  MakeV1StoreWithRuns(v1);
  MustExec(v1, StoreSchemaSql());
  MustExec(v1, StoreSchemaSql());
  EXPECT_EQ(Version(v1), "2");
  // The reader reads the filled columns (a version 2 store), as they came from the records.
  auto store = PgStore::Open(Url(v1), /*create=*/false);
  ASSERT_TRUE(store.ok()) << store.message();
  ExpectRunsOfV1Store(**store);
}

TEST(PgStoreSchemaTest, ANewerStoreIsRefusedByTheEngineAndByTheSql) {
  const std::string db = CreateTestDb();
  MustExec(db, StoreSchemaSql() + "UPDATE runbook.meta SET value = '3';");
  for (bool create : {false, true}) {
    auto store = PgStore::Open(Url(db), create);
    ASSERT_FALSE(store.ok());
    EXPECT_THAT(store.message(), HasSubstr("its schema is version 3, newer than this runbook"));
  }
  auto c = Connect(db);
  ASSERT_NE(c, nullptr);
  auto r = c->Exec(StoreSchemaSql());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.message(), HasSubstr("newer than version 2"));
  (void)c->Exec("ROLLBACK");
  EXPECT_EQ(Version(db), "3");
}

TEST(PgStoreSchemaTest, AWriterThatMayNotUpgradeIsRefusedSayingHowAReaderReadsOn) {
  const std::string db = CreateTestDb();
  MakeV1StoreWithRuns(db);
  // A role with the privileges docs/team.md lists for runs, not the tables' owner.
  const std::string role = "runbook_store_writer";
  MustExec(db, "DO $$BEGIN CREATE ROLE " + role +
                   " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"
                   "GRANT USAGE ON SCHEMA runbook TO " +
                   role + "; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA runbook TO " + role +
                   "; GRANT UPDATE ON runbook.runs TO " + role + ";");
  auto writer = PgStore::Open(Url(db, role), /*create=*/true);
  ASSERT_FALSE(writer.ok());
  EXPECT_THAT(writer.message(),
              HasSubstr("cannot upgrade the schema 'runbook' from version 1 to 2"));
  EXPECT_THAT(writer.message(), HasSubstr("`runbook state init --print-sql`"));
  EXPECT_THAT(writer.message(), HasSubstr("must be owner"));
  EXPECT_EQ(Version(db), "1");
  auto reader = PgStore::Open(Url(db, role), /*create=*/false);
  ASSERT_TRUE(reader.ok()) << reader.message();
  ExpectRunsReadAsVersion1(**reader);
}

TEST(PgStoreSchemaTest, TwoWritersMeetingAVersion1StoreAtOnceBothGoOn) {
  const std::string db = CreateTestDb();
  MakeV1StoreWithRuns(db);
  std::string errors[2];
  std::thread writers[2];
  for (int i = 0; i < 2; ++i) {
    writers[i] = std::thread([&, i] {
      auto store = PgStore::Open(Url(db), /*create=*/true);
      if (!store.ok()) errors[i] = store.message();
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ(Version(db), "2");
  auto store = PgStore::Open(Url(db), /*create=*/false);
  ASSERT_TRUE(store.ok()) << store.message();
  ExpectRunsOfV1Store(**store);
}

}  // namespace
}  // namespace runbook
