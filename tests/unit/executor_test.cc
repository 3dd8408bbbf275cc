// The executor with a recording process runner: scheduling order, skips, guards, retries,
// journaling and resume. Real processes are exercised by tests/e2e/.
#include "engine/executor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>

#include "engine/journal.h"
#include "engine/run_state.h"
#include "engine/state_dir.h"
#include "steps/registry.h"

namespace runbook {
namespace {

// Records every command; `fail_once` scripts fail on their first run, `fail` always.
class FakeRunner : public ProcessRunner {
 public:
  ProcessResult Run(const ProcessSpec& spec, OutputSink* out, const CancelToken&) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string script = spec.argv.size() == 3 ? spec.argv[2] : spec.argv.front();
    ran.push_back(script);
    if (on_run) on_run(script);
    if (spec.before_input) {
      hooked.push_back(script);
      // The step's record was written before its process started; the hook makes it durable.
      if (!spec.before_input().ok()) hook_failed = true;
    }
    ProcessResult r;
    r.started = true;
    r.exit_code = 0;
    if (fail.count(script) || (fail_once.count(script) && fail_once.erase(script))) r.exit_code = 1;
    out->Line(Stream::kStdout, "ran " + script);
    return r;
  }
  std::vector<std::string> ran, hooked;
  std::function<void(const std::string&)> on_run;  // e.g. a Ctrl-C while a command runs
  std::set<std::string> fail, fail_once;
  bool hook_failed = false;

 private:
  std::mutex mu_;
};

class NullReporter : public Reporter {
 public:
  void RunStarted(const std::string&, const std::string&, int, DryRun) override {}
  void StepStarted(const std::string&, int, int) override {}
  void StepLine(const std::string&, Stream, std::string_view) override {}
  void GuardEvaluated(const std::string&, GuardPhase, const char*, const GuardResult& r) override {
    guards.push_back(r.summary);
  }
  void Waiting(const std::string&, const std::string&, double) override {}
  void StepFinished(const StepSummary&) override {}
  void Notice(const std::string& text) override { notices.push_back(text); }
  void RunFinished(const std::vector<StepSummary>&, int) override {}
  std::vector<std::string> guards, notices;
};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::filesystem::temp_directory_path() /
             ("rb-exec-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(state_);
  }
  void TearDown() override { std::filesystem::remove_all(state_); }

  ExecResult Run(const std::string& yaml, StartMode start = StartMode::kNew, int jobs = 1) {
    Diagnostics diags;
    LoadOptions lo;
    lo.kinds = &BuiltinKinds();
    auto loaded = LoadRunbookFromString("test.yaml", yaml, lo, &diags);
    EXPECT_TRUE(loaded) << (diags.ok() ? "" : diags.errors()[0].ToString());
    if (!loaded) return {};
    ExecOptions options;
    options.state_dir = state_.string();
    options.start = start;
    options.jobs = jobs;
    options.retry_backoff = Duration(1);
    options.interrupt = &interrupt_;
    options.interrupt_again = &interrupt_again_;
    return ExecuteRun(*loaded, options, {&runner_, &reporter_, nullptr});
  }

  std::filesystem::path state_;
  std::atomic<bool> interrupt_{false}, interrupt_again_{false};
  FakeRunner runner_;
  NullReporter reporter_;
};

TEST_F(ExecutorTest, RunsInDependencyOrderWithFileOrderTies) {
  ExecResult r = Run(R"(name: t
steps:
  - {id: c, needs: [a], run: "echo c"}
  - {id: a, run: "echo a"}
  - {id: b, run: "echo b"}
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo a", "echo c", "echo b"}));
}

TEST_F(ExecutorTest, FailureStopsNewStepsButRunsFinally) {
  runner_.fail.insert("echo a");
  ExecResult r = Run(R"(name: t
steps:
  - {id: a, run: "echo a"}
  - {id: b, needs: [a], run: "echo b"}
finally:
  - {id: z, run: "echo z"}
)");
  EXPECT_EQ(r.exit_code, kExitStepFailed);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo a", "echo z"}));
  EXPECT_EQ(r.steps[1].outcome, StepOutcomeKind::kNotRun);
}

TEST_F(ExecutorTest, FinallyStepWhoseNeedFailedIsSkipped) {
  runner_.fail.insert("echo a");
  ExecResult r = Run(R"(name: t
steps:
  - {id: a, run: "echo a"}
finally:
  - {id: y, needs: [a], run: "echo y"}
  - {id: z, run: "echo z"}
)");
  EXPECT_EQ(r.exit_code, kExitStepFailed);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo a", "echo z"}));
  EXPECT_EQ(r.steps[1].outcome, StepOutcomeKind::kSkipped);
  EXPECT_EQ(r.steps[1].message, "needs a, which did not succeed");
}

constexpr const char* kWindow = R"(name: t
steps:
  - {id: stop, run: "echo stop"}
  - {id: migrate, needs: [stop], run: "echo migrate"}
finally:
  - {id: start, run: "echo start", on_interrupt: run}
  - {id: check, run: "echo check"}
  - {id: start-more, run: "echo start-more", on_interrupt: run}
)";

TEST_F(ExecutorTest, AfterCtrlCOnlyFinallyStepsMarkedOnInterruptRun) {
  runner_.on_run = [this](const std::string& script) {
    if (script == "echo migrate") interrupt_ = true;
  };
  ExecResult r = Run(kWindow);
  EXPECT_EQ(r.exit_code, kExitInterrupted);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo stop", "echo migrate", "echo start",
                                                   "echo start-more"}));
  EXPECT_EQ(r.steps[3].outcome, StepOutcomeKind::kNotRun);  // check
}

TEST_F(ExecutorTest, SecondCtrlCStopsTheFinallyStepsToo) {
  runner_.on_run = [this](const std::string& script) {
    if (script == "echo migrate") interrupt_ = true;
    if (script == "echo start") interrupt_again_ = true;
  };
  ExecResult r = Run(kWindow);
  EXPECT_EQ(r.exit_code, kExitInterrupted);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo stop", "echo migrate", "echo start"}));
  EXPECT_EQ(r.steps[2].outcome, StepOutcomeKind::kInterrupted);  // start
  EXPECT_EQ(r.steps[4].outcome, StepOutcomeKind::kNotRun);       // start-more
}

TEST_F(ExecutorTest, FalseConditionSkipsAndSatisfiesNeeds) {
  ExecResult r = Run(R"(name: t
params: {go: {type: boolean, default: false}}
steps:
  - {id: a, if: "${{ params.go }}", run: "echo a"}
  - {id: b, needs: [a], run: "echo b"}
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo b"}));
  EXPECT_EQ(r.steps[0].outcome, StepOutcomeKind::kSkipped);
}

TEST_F(ExecutorTest, RetriesUntilSuccessAndCountsAttempts) {
  runner_.fail_once.insert("echo a");
  ExecResult r = Run(R"(name: t
steps:
  - {id: a, retries: 2, run: "echo a"}
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.steps[0].attempts, 2);
}

TEST_F(ExecutorTest, FailingAbortGuardBlocksWithExit3AndEvidence) {
  runner_.fail.insert("test -f /nonexistent");
  ExecResult r = Run(R"(name: t
steps:
  - id: a
    guards:
      - command: {run: "test -f /nonexistent"}
    run: "echo a"
)");
  EXPECT_EQ(r.exit_code, kExitBlocked);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"test -f /nonexistent"}));
  ASSERT_EQ(reporter_.guards.size(), 1u);
  EXPECT_NE(reporter_.guards[0].find("exit 1"), std::string::npos);
}

TEST_F(ExecutorTest, SkipGuardSkipsTheStep) {
  runner_.fail.insert("false");
  ExecResult r = Run(R"(name: t
steps:
  - id: a
    guards:
      - command: {run: "false"}
        on_fail: skip
    run: "echo a"
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.steps[0].outcome, StepOutcomeKind::kSkipped);
}

TEST_F(ExecutorTest, DoneWhenRecordsDoneWithoutRunning) {
  ExecResult r = Run(R"(name: t
steps:
  - id: a
    done_when:
      - command: {run: "true"}
    run: "echo a"
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.steps[0].outcome, StepOutcomeKind::kDone);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"true"}));
}

TEST_F(ExecutorTest, ConfirmWithoutTerminalRefuses) {
  ExecResult r = Run(R"(name: t
steps:
  - {id: a, confirm: "drops everything", run: "echo a"}
)");
  EXPECT_EQ(r.exit_code, kExitRefused);
  EXPECT_TRUE(runner_.ran.empty());
}

TEST_F(ExecutorTest, ResumeSkipsFinishedStepsAndRefusesNewRunMeanwhile) {
  const std::string yaml = R"(name: t
steps:
  - {id: a, run: "echo a"}
  - {id: b, needs: [a], run: "echo b"}
)";
  runner_.fail_once.insert("echo b");
  EXPECT_EQ(Run(yaml).exit_code, kExitStepFailed);
  EXPECT_EQ(Run(yaml).exit_code, kExitRefused);  // an unfinished run exists
  runner_.ran.clear();
  ExecResult r = Run(yaml, StartMode::kResume);
  EXPECT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"echo b"}));
  // The journal tells the same story.
  auto run = LatestRun(state_.string(), "t");
  ASSERT_TRUE(run);
  auto contents = ReadJournal(run->journal);
  ASSERT_TRUE(contents.ok());
  RunState rs = ReplayJournal(contents->records);
  EXPECT_TRUE(rs.finished);
  EXPECT_EQ(rs.outcome, "success");
  EXPECT_EQ(rs.steps["a"].attempts, 1);
  EXPECT_EQ(rs.steps["b"].status, StepStatus::kSucceeded);
}

TEST_F(ExecutorTest, RemoteRunStepSyncsItsStartThroughTheProcessHook) {
  // Over ssh the step_started record is synced by the step's ssh process once it runs, before
  // the command may start; the master connection and local steps get no hook.
  ExecResult r = Run(R"(name: t
hosts: {web: {ssh: deploy@web}}
steps:
  - {id: a, run: "echo a"}
  - {id: b, needs: [a], host: web, run: "echo b"}
)");
  EXPECT_EQ(r.exit_code, kExitOk);
  // ssh runs four times: to open the master and take the host's lock (before the first step),
  // for the step, and to close the master (-O exit).
  EXPECT_EQ(runner_.ran, (std::vector<std::string>{"ssh", "ssh", "echo a", "ssh", "ssh"}));
  EXPECT_EQ(runner_.hooked, (std::vector<std::string>{"ssh"}));
  EXPECT_FALSE(runner_.hook_failed);
  auto run = LatestRun(state_.string(), "t");
  ASSERT_TRUE(run);
  auto contents = ReadJournal(run->journal);
  ASSERT_TRUE(contents.ok());
  RunState rs = ReplayJournal(contents->records);
  EXPECT_EQ(rs.steps["b"].status, StepStatus::kSucceeded);
  EXPECT_EQ(rs.steps["b"].attempts, 1);
}

TEST_F(ExecutorTest, ParallelJobsRunEveryIndependentStep) {
  ExecResult r = Run(R"(name: t
steps:
  - {id: a, run: "echo a"}
  - {id: b, run: "echo b"}
  - {id: c, run: "echo c"}
  - {id: d, needs: [a, b, c], run: "echo d"}
)",
                     StartMode::kNew, 3);
  EXPECT_EQ(r.exit_code, kExitOk);
  ASSERT_EQ(runner_.ran.size(), 4u);
  EXPECT_EQ(runner_.ran.back(), "echo d");
}

}  // namespace
}  // namespace runbook
