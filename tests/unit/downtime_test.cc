// The downtime window (`downtime: {from, to}`): its validation, the steps inside it, how a run
// measures and journals it (across a resume too), the median a plan expects, and its wording.
// The real binary with real processes: tests/e2e/downtime.sh.
#include "engine/downtime.h"
#include "engine/expectations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/parse.h"
#include "engine/plan.h"
#include "engine/state_dir.h"
#include "engine/validate.h"
#include "steps/registry.h"

namespace runbook {
namespace {

// Validation errors of a runbook as "LINE:COL: message".
std::vector<std::string> Errors(const std::string& yaml) {
  Diagnostics diags;
  std::optional<Runbook> rb = ParseRunbook("d.yaml", yaml, BuiltinKinds(), &diags);
  if (rb) ValidateRunbook(*rb, &diags);
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.errors()) {
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message);
  }
  return out;
}

const char* kSteps = R"(steps:
  - {id: fetch, run: "echo fetch"}
  - {id: stop, needs: [fetch], run: "echo stop"}
  - {id: other, run: "echo other"}
  - {id: migrate, needs: [stop], run: "echo migrate"}
  - {id: start, needs: [migrate], run: "echo start"}
  - {id: after, needs: [start], run: "echo after"}
finally:
  - {id: ensure, run: "echo ensure"}
)";

std::string WithWindow(const std::string& window) {
  return "name: t\ndowntime: " + window + "\n" + kSteps;
}

TEST(DowntimeValidateTest, AcceptsAStepThatNeedsFromItselfAndAFinallyStep) {
  EXPECT_TRUE(Errors(WithWindow("{from: stop, to: start}")).empty());
  EXPECT_TRUE(Errors(WithWindow("{from: stop, to: stop}")).empty());
  EXPECT_TRUE(Errors(WithWindow("{from: stop, to: ensure}")).empty());
}

TEST(DowntimeValidateTest, NamesUnknownStepsWithASuggestion) {
  EXPECT_EQ(Errors(WithWindow("{from: stpo, to: strat}")),
            (std::vector<std::string>{
                "2:18: downtime names unknown step 'stpo' (did you mean 'stop'?)",
                "2:28: downtime names unknown step 'strat' (did you mean 'start'?)"}));
}

TEST(DowntimeValidateTest, RefusesAnEndThatMayComeBeforeTheStart) {
  const std::string message =
      "downtime ends with '%s', which may run before 'stop' starts it: 'to' "
      "must be 'from', a step that needs it (directly or not), or a "
      "finally step after it";
  auto expect = [&](const std::string& to, int col) {
    std::string m = message;
    m.replace(m.find("%s"), 2, to);
    return std::vector<std::string>{"2:" + std::to_string(col) + ": " + m};
  };
  // `fetch` runs before `stop`; `other` needs nothing, so --jobs may run it first.
  EXPECT_EQ(Errors(WithWindow("{from: stop, to: fetch}")), expect("fetch", 28));
  EXPECT_EQ(Errors(WithWindow("{from: stop, to: other}")), expect("other", 28));
}

TEST(DowntimeValidateTest, NeedsBothKeysAndNoOther) {
  EXPECT_EQ(Errors(WithWindow("{from: stop}")),
            (std::vector<std::string>{"2:11: missing required key 'to' in 'downtime'"}));
  auto errors = Errors(WithWindow("{from: stop, to: start, until: x}"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("2:35: unknown key 'until' in 'downtime'", 0), 0u) << errors[0];
}

TEST(DowntimeTest, WindowStepsFollowThePlanOrder) {
  Diagnostics diags;
  auto rb = ParseRunbook("d.yaml", WithWindow("{from: stop, to: start}"), BuiltinKinds(), &diags);
  ASSERT_TRUE(rb);
  Graph graph;
  ValidateRunbook(*rb, &diags, &graph);
  std::vector<std::string> ids;
  for (const Step* s : WindowSteps(*rb, graph)) ids.push_back(s->id);
  // Plan order: fetch, stop, other, migrate, start, after: `other` runs inside with one job.
  EXPECT_EQ(ids, (std::vector<std::string>{"stop", "other", "migrate", "start"}));
  rb->downtime->to.name = "ensure";
  ids.clear();
  for (const Step* s : WindowSteps(*rb, graph)) ids.push_back(s->id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"stop", "other", "migrate", "start", "after", "ensure"}));
}

TEST(DowntimeTest, Wording) {
  WindowState w{"stop", "start", "2026-12-07T15:02:01.100Z", "", std::nullopt};
  EXPECT_EQ(DowntimeText(w), "open since 15:02:01 UTC: stop started, start has not succeeded");
  w.closed_at = "2026-12-07T15:02:24.400Z";
  w.duration_ms = 23300;
  EXPECT_EQ(DowntimeText(w), "23.3s (stop 15:02:01 .. start 15:02:24 UTC)");
  EXPECT_EQ(DowntimeText({"stop", "start", "", "", std::nullopt}), "none: stop did not start");
}

// Succeeds, except for the scripts in `fail`.
class FakeRunner : public ProcessRunner {
 public:
  ProcessResult Run(const ProcessSpec& spec, OutputSink*, const CancelToken&) override {
    ProcessResult r;
    r.started = true;
    r.exit_code = fail.count(spec.argv.back()) ? 1 : 0;
    return r;
  }
  std::set<std::string> fail;
};

class DowntimeRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::filesystem::temp_directory_path() /
             ("rb-downtime-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(state_);
  }
  void TearDown() override { std::filesystem::remove_all(state_); }

  std::optional<LoadedRunbook> Load(const std::string& yaml) {
    Diagnostics diags;
    LoadOptions lo;
    lo.kinds = &BuiltinKinds();
    auto loaded = LoadRunbookFromString("test.yaml", yaml, lo, &diags);
    EXPECT_TRUE(loaded) << (diags.ok() ? "" : diags.errors()[0].ToString());
    return loaded;
  }

  ExecResult Run(const std::string& yaml, StartMode start = StartMode::kNew) {
    auto loaded = Load(yaml);
    if (!loaded) return {};
    ExecOptions options;
    options.state_dir = state_.string();
    options.start = start;
    options.retry_backoff = Duration(1);
    return ExecuteRun(*loaded, options, {&runner_, &reporter_, nullptr});
  }

  RunState LatestState() {
    auto run = LatestRun(state_.string(), "t");
    EXPECT_TRUE(run);
    if (!run) return {};
    auto contents = ReadJournal(run->journal);
    EXPECT_TRUE(contents.ok());
    return ReplayJournal(contents->records);
  }

  std::filesystem::path state_;
  FakeRunner runner_;
  SilentReporter reporter_;
};

TEST_F(DowntimeRunTest, ARunJournalsTheWindowItMeasured) {
  ExecResult r = Run(WithWindow("{from: stop, to: start}"));
  ASSERT_EQ(r.exit_code, kExitOk);
  ASSERT_TRUE(r.downtime);
  ASSERT_TRUE(r.downtime->duration_ms);
  const RunState rs = LatestState();
  ASSERT_TRUE(rs.downtime);
  EXPECT_EQ(rs.downtime->from, "stop");
  EXPECT_EQ(rs.downtime->to, "start");
  EXPECT_EQ(rs.downtime->duration_ms, r.downtime->duration_ms);
  // Opened at the start of `stop`, closed at the end of `start`, as the journal's records say.
  EXPECT_GE(rs.downtime->opened_at, rs.steps.at("stop").started_at.substr(0, 19));
  EXPECT_LE(rs.downtime->opened_at, rs.steps.at("stop").finished_at);
  EXPECT_GE(rs.downtime->closed_at, rs.steps.at("start").finished_at);
  EXPECT_EQ(*rs.downtime->duration_ms,
            *ParseTimestampMs(rs.downtime->closed_at) - *ParseTimestampMs(rs.downtime->opened_at));
}

TEST_F(DowntimeRunTest, AFailureLeavesTheWindowOpenAndAResumeClosesItFromItsFirstOpening) {
  const std::string yaml = WithWindow("{from: stop, to: start}");
  runner_.fail.insert("echo migrate");
  ASSERT_EQ(Run(yaml).exit_code, kExitStepFailed);
  RunState first = LatestState();
  ASSERT_TRUE(first.downtime);
  EXPECT_FALSE(first.downtime->duration_ms);
  const std::string opened = first.downtime->opened_at;
  ASSERT_FALSE(opened.empty());
  EXPECT_EQ(DowntimeText(*first.downtime).rfind("open since ", 0), 0u);

  runner_.fail.clear();
  ExecResult r = Run(yaml, StartMode::kResume);
  ASSERT_EQ(r.exit_code, kExitOk);
  const RunState rs = LatestState();
  ASSERT_TRUE(rs.downtime && rs.downtime->duration_ms);
  EXPECT_EQ(rs.downtime->opened_at, opened);  // the service was down all along
}

TEST_F(DowntimeRunTest, AWindowWhoseStartDidNotRunMeasuresNothing) {
  ExecResult r =
      Run("name: t\nparams: {go: {type: boolean, default: false}}\n"
          "downtime: {from: stop, to: start}\nsteps:\n"
          "  - {id: stop, if: '${{ params.go }}', run: 'echo stop'}\n"
          "  - {id: start, needs: [stop], run: 'echo start'}\n");
  ASSERT_EQ(r.exit_code, kExitOk);
  ASSERT_TRUE(r.downtime);
  EXPECT_EQ(DowntimeText(*r.downtime), "none: stop did not start");
}

TEST_F(DowntimeRunTest, APlanExpectsTheMedianOfEarlierRunsOfTheSameWindow) {
  const std::string yaml = WithWindow("{from: stop, to: start}");
  auto loaded = Load(yaml);
  ASSERT_TRUE(loaded);
  PlanOptions options;
  options.state_dir = state_.string();
  options.offline = true;
  auto plan = BuildPlan(*loaded, options, &runner_);
  ASSERT_TRUE(plan.ok()) << plan.message();
  nlohmann::json j = PlanToJson(*plan);
  EXPECT_EQ(j["downtime"]["steps"], nlohmann::json::array({"stop", "other", "migrate", "start"}));
  EXPECT_TRUE(j["downtime"]["expected_seconds"].is_null());
  EXPECT_EQ(j["downtime"]["measured_runs"], 0);
  for (const auto& s : j["steps"]) {
    const bool inside =
        s["id"] == "stop" || s["id"] == "other" || s["id"] == "migrate" || s["id"] == "start";
    EXPECT_EQ(s.value("in_window", false), inside) << s["id"];
  }

  // Three runs whose windows lasted 10 s, 40 s and 20 s (journals written as a run writes them);
  // a fourth measured another window and does not count.
  auto journal_run = [&](const std::string& from, const std::string& to, int64_t ms) {
    auto dir = CreateRunDir(state_.string(), "t");
    ASSERT_TRUE(dir.ok());
    auto journal = Journal::Create(dir->journal);
    ASSERT_TRUE(journal.ok());
    RunStartedInfo info;
    info.run_id = dir->run_id;
    info.runbook = "t";
    info.downtime = {{from, to}};
    ASSERT_TRUE(journal.value()->Append(RunStartedRecord(info)).ok());
    ASSERT_TRUE(journal.value()
                    ->Append(DowntimeRecord(from, to, "2026-12-07T15:00:00.000Z",
                                            "2026-12-07T15:00:10.000Z", ms))
                    .ok());
    ASSERT_TRUE(journal.value()->Append(RunFinishedRecord(RunOutcome::kSuccess, 0)).ok());
  };
  journal_run("stop", "start", 10000);
  journal_run("stop", "start", 40000);
  journal_run("stop", "migrate", 1000);
  journal_run("stop", "start", 20000);
  ExpectedDowntime e =
      ExpectWindow(EarlierRunsIn(state_.string(), loaded->runbook.name), "stop", "start");
  ASSERT_TRUE(e.seconds);
  EXPECT_DOUBLE_EQ(*e.seconds, 20.0);
  EXPECT_EQ(e.runs, 3);
}

}  // namespace
}  // namespace runbook
