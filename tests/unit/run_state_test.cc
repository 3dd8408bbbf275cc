#include "engine/run_state.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace runbook {
namespace {

using nlohmann::json;

RunResumedInfo Resumed(int pid, const std::string& user, const std::string& host,
                       const std::string& boot_id) {
  RunResumedInfo info;
  info.pid = pid;
  info.user = user;
  info.host = host;
  info.boot_id = boot_id;
  return info;
}

// Builds records as the journal would hold them: with "ts" (and seq, which replay ignores).
class Records {
 public:
  Records& Add(json r) {
    r["seq"] = static_cast<int>(records_.size()) + 1;
    r["ts"] = "2026-11-25T05:43:" + std::to_string(10 + records_.size()) + ".000Z";
    records_.push_back(std::move(r));
    return *this;
  }
  Records& Start(std::vector<std::string> steps) {
    RunStartedInfo info;
    info.run_id = "20261125T054302Z-3fa9";
    info.runbook = "clone-prod";
    info.path = "/srv/runbooks/clone-prod.yaml";
    info.inventories = {"/srv/inv/jane.yaml"};
    info.sets = {{"sample_every", "1000"}, {"sample_every", "500"}};
    info.params = {{"sample_every", "500"}};
    info.step_ids = std::move(steps);
    info.pid = 123;
    info.user = "alice";
    info.host = "ops1";
    info.boot_id = "b1";
    return Add(RunStartedRecord(info));
  }
  Records& Started(const std::string& step, int attempt = 1, const std::string& hash = "h1") {
    return Add(StepStartedRecord(step, attempt, hash));
  }
  Records& Finished(const std::string& step, StepOutcomeKind outcome, int attempt = 1,
                    std::optional<int> exit_code = 0) {
    StepFinishedInfo info;
    info.step = step;
    info.outcome = outcome;
    info.attempt = attempt;
    info.exit_code = exit_code;
    info.duration_ms = 1500;
    return Add(StepFinishedRecord(info));
  }
  RunState Replay() const { return ReplayJournal(records_); }

 private:
  std::vector<json> records_;
};

TEST(RunStateRecordsTest, BuildersWriteTheDocumentedFields) {
  StepFinishedInfo info;
  info.step = "migrate";
  info.outcome = StepOutcomeKind::kTimedOut;
  info.attempt = 2;
  info.signal = 9;
  info.duration_ms = 60000;
  info.message = "killed at its 1m timeout";
  EXPECT_EQ(StepFinishedRecord(info).dump(),
            R"({"attempt":2,"duration_ms":60000,"message":"killed at its 1m timeout",)"
            R"("outcome":"timed_out","signal":9,"step":"migrate","type":"step_finished"})");
  EXPECT_EQ(StepStartedRecord("migrate", 1, "abc").dump(),
            R"({"attempt":1,"hash":"abc","step":"migrate","type":"step_started"})");
  EXPECT_EQ(StepProcessRecord("migrate", 77, "b1").dump(),
            R"({"boot_id":"b1","pgid":77,"step":"migrate","type":"step_process"})");
  EXPECT_EQ(
      GuardRecord("drop-dev-db", GuardPhase::kDoneWhen, "sql", true, "db absent", {"x"}).dump(),
      R"({"evidence":["x"],"held":true,"kind":"sql","phase":"done_when",)"
      R"("step":"drop-dev-db","summary":"db absent","type":"guard"})");
  EXPECT_EQ(StepDataRecord("sample-files", "keys", "1,2,3").dump(),
            R"({"key":"keys","step":"sample-files","type":"step_data","value":"1,2,3"})");
  EXPECT_EQ(RunFinishedRecord(RunOutcome::kInterrupted, 130).dump(),
            R"({"exit_code":130,"outcome":"interrupted","type":"run_finished"})");
  EXPECT_EQ(RunResumedRecord(Resumed(9, "ops", "h", "b")).dump(),
            R"({"boot_id":"b","finally_ids":[],"host":"h","pid":9,"step_ids":[],"step_needs":{},)"
            R"("type":"run_resumed","user":"ops"})");
  EXPECT_EQ(ConfirmationRecord("drop", true, 0, AnsweredBy::kYes).dump(),
            R"({"by":"yes","confirmed":true,"step":"drop","type":"confirmation","waited_ms":0})");
}

TEST(RunStateRecordsTest, OutcomeNamesRoundTrip) {
  for (StepOutcomeKind o :
       {StepOutcomeKind::kSuccess, StepOutcomeKind::kFailure, StepOutcomeKind::kSkipped,
        StepOutcomeKind::kDone, StepOutcomeKind::kInterrupted, StepOutcomeKind::kTimedOut,
        StepOutcomeKind::kBlocked}) {
    EXPECT_EQ(ParseStepOutcome(StepOutcomeName(o)), o);
  }
  for (RunOutcome o : {RunOutcome::kSuccess, RunOutcome::kFailure, RunOutcome::kBlocked,
                       RunOutcome::kInterrupted}) {
    EXPECT_EQ(ParseRunOutcome(RunOutcomeName(o)), o);
  }
  EXPECT_EQ(ParseStepOutcome("succeeded"), std::nullopt);
  EXPECT_STREQ(StepOutcomeName(StepOutcomeKind::kTimedOut), "timed_out");
}

TEST(RunStateTest, SuccessfulRun) {
  RunState run = Records()
                     .Start({"a", "b"})
                     .Started("a")
                     .Add(StepProcessRecord("a", 4242, "b1"))
                     .Finished("a", StepOutcomeKind::kSuccess)
                     .Finished("b", StepOutcomeKind::kDone, 1, std::nullopt)
                     .Add(RunFinishedRecord(RunOutcome::kSuccess, 0))
                     .Replay();
  EXPECT_EQ(run.run_id, "20261125T054302Z-3fa9");
  EXPECT_EQ(run.runbook, "clone-prod");
  EXPECT_EQ(run.path, "/srv/runbooks/clone-prod.yaml");
  EXPECT_EQ(run.inventories, std::vector<std::string>{"/srv/inv/jane.yaml"});
  ASSERT_EQ(run.sets.size(), 2u);
  EXPECT_EQ(run.sets[1], (std::pair<std::string, std::string>{"sample_every", "500"}));
  EXPECT_EQ(run.params.at("sample_every"), "500");
  EXPECT_EQ(run.step_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(run.pid, 123);
  EXPECT_EQ(run.host, "ops1");
  EXPECT_EQ(run.boot_id, "b1");
  EXPECT_TRUE(run.finished);
  EXPECT_EQ(run.outcome, "success");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.started_at, "2026-11-25T05:43:10.000Z");
  EXPECT_EQ(run.ended_at, "2026-11-25T05:43:15.000Z");
  EXPECT_EQ(run.last_ts, run.ended_at);
  EXPECT_FALSE(Unfinished(run));
  EXPECT_FALSE(Crashed(run));
  const StepState& a = run.steps.at("a");
  EXPECT_EQ(a.status, StepStatus::kSucceeded);
  EXPECT_EQ(a.outcome, "success");
  EXPECT_EQ(a.hash, "h1");
  EXPECT_EQ(a.attempts, 1);
  EXPECT_EQ(a.pgid, 4242);
  EXPECT_EQ(a.boot_id, "b1");
  EXPECT_EQ(a.duration_ms, 1500);
  EXPECT_EQ(a.exit_code, 0);
  EXPECT_EQ(run.steps.at("b").status, StepStatus::kDone);
  EXPECT_EQ(run.steps.at("b").exit_code, std::nullopt);
}

TEST(RunStateTest, CrashMidStepLeavesItRunning) {
  RunState run = Records()
                     .Start({"a", "b", "c"})
                     .Started("a")
                     .Finished("a", StepOutcomeKind::kSuccess)
                     .Started("b", 1, "hb")
                     .Replay();
  EXPECT_FALSE(run.finished);
  EXPECT_TRUE(Crashed(run));
  EXPECT_TRUE(Unfinished(run));
  EXPECT_EQ(run.outcome, "");
  EXPECT_EQ(run.steps.at("b").status, StepStatus::kRunning);
  EXPECT_EQ(run.steps.at("b").hash, "hb");
  EXPECT_EQ(run.steps.at("c").status, StepStatus::kPending);
  EXPECT_EQ(StepsWithStatus(run, StepStatus::kRunning), std::vector<std::string>{"b"});
  EXPECT_EQ(StepsWithStatus(run, StepStatus::kPending), std::vector<std::string>{"c"});
}

TEST(RunStateTest, RetriesCountAttemptsAndTheLastOneDecides) {
  RunState run = Records()
                     .Start({"flaky"})
                     .Started("flaky", 1)
                     .Finished("flaky", StepOutcomeKind::kFailure, 1, 1)
                     .Started("flaky", 2)
                     .Finished("flaky", StepOutcomeKind::kTimedOut, 2, std::nullopt)
                     .Started("flaky", 3)
                     .Finished("flaky", StepOutcomeKind::kSuccess, 3)
                     .Replay();
  const StepState& s = run.steps.at("flaky");
  EXPECT_EQ(s.attempts, 3);
  EXPECT_EQ(s.status, StepStatus::kSucceeded);
  EXPECT_EQ(s.exit_code, 0);

  RunState timed_out = Records()
                           .Start({"x"})
                           .Started("x")
                           .Finished("x", StepOutcomeKind::kTimedOut, 1, std::nullopt)
                           .Add(RunFinishedRecord(RunOutcome::kFailure, 1))
                           .Replay();
  EXPECT_EQ(timed_out.steps.at("x").status, StepStatus::kFailed);
  EXPECT_EQ(timed_out.steps.at("x").outcome, "timed_out");
  EXPECT_TRUE(Unfinished(timed_out)) << "a failed run can be resumed";
  EXPECT_FALSE(Crashed(timed_out));
}

TEST(RunStateTest, ResumedRunTakesTheNewProcessAndReopens) {
  Records records;
  records.Start({"a", "b"})
      .Started("a")
      .Finished("a", StepOutcomeKind::kSuccess)
      .Started("b")
      .Finished("b", StepOutcomeKind::kFailure, 1, 2)
      .Add(RunFinishedRecord(RunOutcome::kFailure, 1))
      .Add(RunResumedRecord(Resumed(456, "bob", "ops2", "b2")));
  RunState mid = records.Replay();
  EXPECT_FALSE(mid.finished);
  EXPECT_EQ(mid.outcome, "");
  EXPECT_EQ(mid.ended_at, "");
  EXPECT_EQ(mid.pid, 456);
  EXPECT_EQ(mid.host, "ops2");
  EXPECT_EQ(mid.boot_id, "b2");
  EXPECT_EQ(mid.resumes, 1);
  EXPECT_EQ(mid.user, "bob");
  ASSERT_EQ(mid.sessions.size(), 2u);
  EXPECT_EQ(mid.sessions[0].user, "alice");
  EXPECT_EQ(mid.sessions[0].host, "ops1");
  EXPECT_EQ(mid.sessions[1].pid, 456);
  EXPECT_EQ(mid.sessions[1].ts, "2026-11-25T05:43:16.000Z");
  EXPECT_EQ(mid.steps.at("b").status, StepStatus::kFailed);
  EXPECT_EQ(mid.steps.at("b").exit_code, 2);

  RunState done = records.Started("b", 2, "h2")
                      .Finished("b", StepOutcomeKind::kSuccess, 2)
                      .Add(RunFinishedRecord(RunOutcome::kSuccess, 0))
                      .Replay();
  EXPECT_TRUE(done.finished);
  EXPECT_EQ(done.outcome, "success");
  EXPECT_EQ(done.steps.at("b").status, StepStatus::kSucceeded);
  EXPECT_EQ(done.steps.at("b").hash, "h2");
  EXPECT_EQ(done.steps.at("b").attempts, 2);
  EXPECT_EQ(done.started_at, "2026-11-25T05:43:10.000Z") << "the run started with run_started";
  EXPECT_FALSE(Unfinished(done));
}

TEST(RunStateTest, AResumeCarriesRenamedStepsItsOptionsAndTheRunbooksShape) {
  RunResumedInfo info = Resumed(7, "bob", "ops2", "b2");
  info.selection.only = {"b-renamed"};
  info.inventories = std::vector<std::string>{"/srv/inv/other.yaml"};
  info.sets = std::vector<std::pair<std::string, std::string>>{{"sample_every", "7"}};
  info.params = std::map<std::string, std::string>{{"sample_every", "7"}};
  info.step_ids = {"a", "b-renamed"};
  info.finally_ids = {"f"};
  info.step_needs = {{"a", {}}, {"b-renamed", {"a"}}, {"f", {}}};
  info.renamed = {{"b", "b-renamed"}};
  RunState run = Records()
                     .Start({"a", "b"})
                     .Started("a")
                     .Finished("a", StepOutcomeKind::kFailure)
                     .Started("b", 1, "hb")
                     .Finished("b", StepOutcomeKind::kSuccess)
                     .Add(RunFinishedRecord(RunOutcome::kFailure, 1))
                     .Add(RunResumedRecord(info))
                     .Replay();
  EXPECT_EQ(run.step_ids, (std::vector<std::string>{"a", "b-renamed"}));
  EXPECT_EQ(run.finally_ids, std::vector<std::string>{"f"});
  EXPECT_EQ(run.step_needs.at("b-renamed"), std::vector<std::string>{"a"});
  EXPECT_EQ(run.steps.at("b-renamed").status, StepStatus::kSucceeded);
  EXPECT_EQ(run.steps.at("b-renamed").hash, "hb");
  EXPECT_EQ(run.steps.count("b"), 0u);
  EXPECT_EQ(run.inventories, std::vector<std::string>{"/srv/inv/other.yaml"});
  EXPECT_EQ(run.params.at("sample_every"), "7");
  ASSERT_EQ(run.sessions.size(), 2u);
  EXPECT_TRUE(run.sessions[0].selection.empty());
  EXPECT_EQ(run.sessions[1].selection.Describe(), "--only b-renamed");
  EXPECT_EQ(run.sessions[1].changed_options, "-i /srv/inv/other.yaml --set sample_every=7");
  EXPECT_EQ(run.sessions[1].renamed,
            (std::vector<std::pair<std::string, std::string>>{{"b", "b-renamed"}}));
}

TEST(RunStateTest, GuardsOfTheLastAttemptAndBlockedSteps) {
  RunState run =
      Records()
          .Start({"drop"})
          .Add(GuardRecord("drop", GuardPhase::kGuards, "postgres_idle", false, "3 backends",
                           {"pid 1: SELECT", "pid 2: COPY"}))
          .Finished("drop", StepOutcomeKind::kBlocked, 1, std::nullopt)
          .Add(RunFinishedRecord(RunOutcome::kBlocked, 3))
          .Add(RunResumedRecord(Resumed(2, "alice", "ops1", "b1")))
          .Add(GuardRecord("drop", GuardPhase::kGuards, "postgres_idle", true, "idle", {}))
          .Add(GuardRecord("drop", GuardPhase::kDoneWhen, "sql", false, "db exists", {}))
          .Started("drop", 2)
          .Add(GuardRecord("drop", GuardPhase::kVerify, "sql", true, "db gone", {}))
          .Replay();
  const StepState& s = run.steps.at("drop");
  EXPECT_EQ(s.status, StepStatus::kRunning);
  ASSERT_EQ(s.guards.size(), 3u) << "the blocked attempt's observation was replaced";
  EXPECT_EQ(s.guards[0].phase, "guards");
  EXPECT_TRUE(s.guards[0].held);
  EXPECT_EQ(s.guards[1].phase, "done_when");
  EXPECT_EQ(s.guards[2].summary, "db gone");

  RunState blocked = Records()
                         .Start({"drop"})
                         .Add(GuardRecord("drop", GuardPhase::kGuards, "postgres_idle", false,
                                          "3 backends", {"pid 1: SELECT"}))
                         .Finished("drop", StepOutcomeKind::kBlocked, 1, std::nullopt)
                         .Replay();
  EXPECT_EQ(blocked.steps.at("drop").status, StepStatus::kBlocked);
  ASSERT_EQ(blocked.steps.at("drop").guards.size(), 1u);
  EXPECT_EQ(blocked.steps.at("drop").guards[0].evidence, std::vector<std::string>{"pid 1: SELECT"});
}

TEST(RunStateTest, StepDataLastValueWins) {
  RunState run = Records()
                     .Start({"sample-files"})
                     .Add(StepDataRecord("sample-files", "keys", "1,2"))
                     .Add(StepDataRecord("sample-files", "keys", "1,2,3"))
                     .Add(StepDataRecord("sample-files", "rows", "3"))
                     .Replay();
  const auto& data = run.steps.at("sample-files").data;
  EXPECT_EQ(data.at("keys"), "1,2,3");
  EXPECT_EQ(data.at("rows"), "3");
}

TEST(RunStateTest, ReplayIsTotalOnOddRecords) {
  std::vector<json> records = {
      json::array({1, 2}),
      {{"type", 5}},
      {{"type", "run_started"},
       {"run_id", 7},
       {"step_ids", {"a", 3}},
       {"sets", {{"k"}, 1}},
       {"params", {{"n", 10}}},
       {"pid", "x"}},
      {{"type", "step_started"}},
      {{"type", "step_finished"}, {"step", "a"}, {"outcome", "exploded"}, {"attempt", "2"}},
      {{"type", "from_the_future"}, {"step", "a"}},
      {{"type", "run_finished"}, {"outcome", "success"}},
  };
  RunState run = ReplayJournal(records);
  EXPECT_EQ(run.run_id, "");
  EXPECT_EQ(run.step_ids, std::vector<std::string>{"a"});
  EXPECT_TRUE(run.sets.empty());
  EXPECT_EQ(run.params.at("n"), "10");
  EXPECT_EQ(run.pid, 0);
  EXPECT_EQ(run.steps.at("").status, StepStatus::kRunning);
  EXPECT_EQ(run.steps.at("a").status, StepStatus::kFailed) << "an unknown outcome is no success";
  EXPECT_TRUE(run.finished);
  EXPECT_EQ(run.exit_code, 1) << "a run_finished without exit_code is not a success exit";
}

TEST(RunStateTest, StepsOutsideTheStepListComeLast) {
  RunState run = Records()
                     .Start({"b", "a"})
                     .Started("zz-renamed")
                     .Finished("zz-renamed", StepOutcomeKind::kSuccess)
                     .Started("a")
                     .Finished("a", StepOutcomeKind::kSuccess)
                     .Started("b")
                     .Finished("b", StepOutcomeKind::kSuccess)
                     .Replay();
  EXPECT_EQ(StepsWithStatus(run, StepStatus::kSucceeded),
            (std::vector<std::string>{"b", "a", "zz-renamed"}));
  EXPECT_STREQ(StepStatusName(StepStatus::kSucceeded), "succeeded");
}

// The finally steps are listed by run_started, so status, history and logs show them in order.
TEST(RunStateTest, FinallyStepsFromRunStarted) {
  Records records;
  RunStartedInfo info;
  info.run_id = "20261125T054302Z-3fa9";
  info.runbook = "upgrade-prod";
  info.step_ids = {"migrate"};
  info.finally_ids = {"start-web", "start-indexers"};
  RunState run = records.Add(RunStartedRecord(info))
                     .Started("migrate")
                     .Finished("migrate", StepOutcomeKind::kFailure)
                     .Started("start-indexers")
                     .Finished("start-indexers", StepOutcomeKind::kSuccess)
                     .Replay();
  EXPECT_EQ(run.finally_ids, (std::vector<std::string>{"start-web", "start-indexers"}));
  EXPECT_EQ(run.steps.count("start-web"), 1u);  // pending, but known
  EXPECT_EQ(StepsWithStatus(run, StepStatus::kSucceeded),
            (std::vector<std::string>{"start-indexers"}));
}

}  // namespace
}  // namespace runbook
