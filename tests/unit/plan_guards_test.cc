// The preview (BuildPlan) with a scripted process runner: which guards that do not hold now make
// the plan blocked, and which only may, because a step that runs before them could change that.
#include "engine/plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "engine/executor.h"
#include "steps/registry.h"

namespace runbook {
namespace {

// Every command exits 0 unless its script is in `fail`.
class ScriptedRunner : public ProcessRunner {
 public:
  ProcessResult Run(const ProcessSpec& spec, OutputSink*, const CancelToken&) override {
    const std::string script = spec.argv.size() == 3 ? spec.argv[2] : spec.argv.front();
    ran.push_back(script);
    ProcessResult r;
    r.started = true;
    r.exit_code = fail.count(script) ? 1 : 0;
    return r;
  }
  std::set<std::string> fail;
  std::vector<std::string> ran;
};

class PlanGuardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::filesystem::temp_directory_path() /
             ("rb-plan-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(state_);
  }
  void TearDown() override { std::filesystem::remove_all(state_); }

  std::optional<LoadedRunbook> Load(const std::string& yaml) {
    Diagnostics diags;
    LoadOptions options;
    options.kinds = &BuiltinKinds();
    auto loaded = LoadRunbookFromString("test.yaml", yaml, options, &diags);
    EXPECT_TRUE(loaded) << (diags.ok() ? "" : diags.errors()[0].ToString());
    return loaded;
  }

  nlohmann::json Plan(const std::string& yaml) {
    auto loaded = Load(yaml);
    if (!loaded) return {};
    PlanOptions options;
    options.state_dir = state_.string();
    auto plan = BuildPlan(*loaded, options, &runner_);
    EXPECT_TRUE(plan.ok()) << plan.message();
    return plan.ok() ? PlanToJson(*plan) : nlohmann::json{};
  }

  static const nlohmann::json& StepOf(const nlohmann::json& plan, const std::string& id) {
    for (const auto& s : plan["steps"]) {
      if (s["id"] == id) return s;
    }
    ADD_FAILURE() << "no step " << id;
    return plan;
  }

  std::filesystem::path state_;
  ScriptedRunner runner_;
};

TEST_F(PlanGuardsTest, FailingGuardOfAFirstStepBlocks) {
  runner_.fail = {"test -e /backup"};
  const nlohmann::json plan = Plan(R"(name: t
steps:
  - {id: a, run: "echo a", guards: [{command: "test -e /backup"}]}
)");
  EXPECT_EQ(StepOf(plan, "a")["would"], "block");
  EXPECT_TRUE(plan["blocked"].get<bool>());
  EXPECT_TRUE(runner_.ran == std::vector<std::string>{"test -e /backup"}) << "no step ran";
}

TEST_F(PlanGuardsTest, FailingGuardAfterANeededStepThatRunsIsDecidedAtRunTime) {
  runner_.fail = {"test -e /backup"};
  const nlohmann::json plan = Plan(R"(name: t
steps:
  - {id: backup, run: "make-backup"}
  - {id: check, needs: [backup], run: "echo check"}
  - {id: migrate, needs: [check], run: "migrate", guards: [{command: "test -e /backup"}]}
)");
  const nlohmann::json& migrate = StepOf(plan, "migrate");
  EXPECT_EQ(migrate["would"], "run");
  EXPECT_EQ(migrate["guards"][0]["held"], false);
  EXPECT_EQ(migrate["guards"][0]["would"], "be evaluated again after backup and check");
  EXPECT_FALSE(plan["blocked"].get<bool>());
}

TEST_F(PlanGuardsTest, OnlyNeededStepsCountNotFileOrder) {
  runner_.fail = {"test -e /backup"};
  const nlohmann::json plan = Plan(R"(name: t
steps:
  - {id: backup, run: "make-backup"}
  - {id: migrate, run: "migrate", guards: [{command: "test -e /backup"}]}
)");
  EXPECT_EQ(StepOf(plan, "migrate")["would"], "block");
  EXPECT_TRUE(plan["blocked"].get<bool>());
}

TEST_F(PlanGuardsTest, NeededStepsThatWouldNotRunDoNotCount) {
  runner_.fail = {"test -e /backup"};
  const nlohmann::json plan = Plan(R"(name: t
params: {go: {type: boolean, default: false}}
steps:
  - {id: off, if: "${{ params.go }}", run: "echo off"}
  - {id: already, run: "echo already", done_when: [{command: "true"}]}
  - {id: migrate, needs: [off, already], run: "migrate", guards: [{command: "test -e /backup"}]}
)");
  EXPECT_EQ(StepOf(plan, "off")["would"], "skip");
  EXPECT_EQ(StepOf(plan, "already")["would"], "done");
  EXPECT_EQ(StepOf(plan, "migrate")["would"], "block");
  EXPECT_TRUE(plan["blocked"].get<bool>());
}

TEST_F(PlanGuardsTest, StepsAResumeWouldSkipDoNotCount) {
  // A run in which `backup` succeeded and `migrate` failed: resuming it runs only `migrate`.
  auto loaded = Load(R"(name: t
steps:
  - {id: backup, run: "make-backup"}
  - {id: migrate, needs: [backup], run: "migrate", guards: [{command: "test -e /backup"}]}
)");
  ASSERT_TRUE(loaded);
  ScriptedRunner first;
  first.fail = {"migrate"};
  SilentReporter reporter;
  ExecOptions exec;
  exec.state_dir = state_.string();
  ASSERT_EQ(ExecuteRun(*loaded, exec, {&first, &reporter, nullptr}).exit_code, kExitStepFailed);

  runner_.fail = {"test -e /backup"};
  PlanOptions options;
  options.state_dir = state_.string();
  auto built = BuildPlan(*loaded, options, &runner_);
  ASSERT_TRUE(built.ok()) << built.message();
  const nlohmann::json plan = PlanToJson(*built);
  EXPECT_EQ(StepOf(plan, "backup")["resume"], "skip: finished (success)");
  EXPECT_EQ(StepOf(plan, "migrate")["would"], "block");
  EXPECT_TRUE(plan["blocked"].get<bool>());
}

TEST_F(PlanGuardsTest, FinallyStepsComeAfterEveryStepThatRuns) {
  runner_.fail = {"curl site"};
  const nlohmann::json plan = Plan(R"(name: t
steps:
  - {id: a, run: "echo a"}
  - {id: b, run: "echo b"}
  - {id: c, run: "echo c"}
  - {id: d, run: "echo d"}
finally:
  - {id: check, run: "echo check", guards: [{command: "curl site"}]}
)");
  EXPECT_EQ(StepOf(plan, "check")["would"], "run");
  EXPECT_EQ(StepOf(plan, "check")["guards"][0]["would"],
            "be evaluated again after ..., b, c and d");
  EXPECT_FALSE(plan["blocked"].get<bool>());
}

TEST_F(PlanGuardsTest, WaitingGuardNeverBlocks) {
  runner_.fail = {"idle"};
  const nlohmann::json plan = Plan(R"(name: t
steps:
  - {id: a, run: "echo a", guards: [{command: "idle", wait: 5m}]}
)");
  EXPECT_EQ(StepOf(plan, "a")["would"], "run");
  EXPECT_EQ(StepOf(plan, "a")["guards"][0]["would"], "wait up to 5m");
  EXPECT_FALSE(plan["blocked"].get<bool>());
}

}  // namespace
}  // namespace runbook
