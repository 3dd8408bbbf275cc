// The plan as text (cli/plan_text.h) of plans built by BuildPlan with a fake process runner:
// the summary's bounds (80 columns, failing guards cut to one line and at most six), verdicts in
// words, and each step once. The shipped upgrade-prod's plan in a real terminal: e2e.plan_screen.
#include "cli/plan_text.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "steps/registry.h"
#include "tests/unit/fake_runner.h"

namespace runbook {
namespace {

class PlanTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rb-plan-text-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The plan's text of a run choosing `selection`; `summary` gets its lines before the first
  // empty one.
  std::string Text(const std::string& yaml, std::vector<std::string>* summary = nullptr,
                   const StepSelection& selection = {}) {
    const std::string path = (dir_ / "rb.yaml").string();
    std::ofstream(path) << yaml;
    Diagnostics diags;
    LoadOptions options;
    options.kinds = &BuiltinKinds();
    auto loaded = LoadRunbook(path, options, &diags);
    EXPECT_TRUE(loaded.has_value()) << (diags.ok() ? "" : diags.errors()[0].ToString());
    if (!loaded) return "";
    PlanOptions plan_options;
    plan_options.state_dir = (dir_ / "state").string();
    plan_options.selection = selection;
    auto plan = BuildPlan(*loaded, plan_options, &runner_);
    EXPECT_TRUE(plan.ok()) << plan.message();
    if (!plan.ok()) return "";
    const std::string text = PlanToText(*plan, /*color=*/false);
    if (summary) {
      std::istringstream in(text);
      for (std::string line; std::getline(in, line) && !line.empty();) summary->push_back(line);
    }
    return text;
  }

  std::filesystem::path dir_;
  FakeRunner runner_;
};

TEST_F(PlanTextTest, ABlockedStepIsSaidSoAndTheSummaryListsItsGuard) {
  std::vector<std::string> summary;
  const std::string text = Text(R"(name: blocked
steps:
  - id: gate
    run: echo go
    guards:
      - command: "false"
  - id: later
    needs: [gate]
    run: echo later
    done_when:
      - command: "true"
)",
                                &summary);
  EXPECT_NE(text.find("\n  gate [run]: BLOCKED: a guard does not hold now, the run would stop "
                      "here\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n      guard command: does not hold now; the run would stop here, "
                      "blocked\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  later [run]: already done (its done_when holds now), skipped\n"),
            std::string::npos)
      << text;
  // The title may wrap (a long path); the verdict and its reason follow it.
  auto verdict = std::find(summary.begin(), summary.end(), "the run would be blocked (exit 3):");
  ASSERT_NE(verdict, summary.end()) << text;
  ASSERT_NE(verdict + 1, summary.end());
  EXPECT_EQ(*(verdict + 1), "  - a guard would block the run");
  EXPECT_NE(std::find(summary.begin(), summary.end(), "  BLOCKED by a guard: gate"), summary.end())
      << text;
  EXPECT_NE(
      std::find(summary.begin(), summary.end(), "  gate  command  BLOCKS: command `false`: exit 1"),
      summary.end())
      << text;
  // The verdict is also the last line, what stays on a terminal.
  const std::string end =
      "\n\nthe run would be blocked (exit 3):\n  - a guard would block the run\n";
  ASSERT_GT(text.size(), end.size());
  EXPECT_EQ(text.substr(text.size() - end.size()), end);
}

TEST_F(PlanTextTest, TheSummaryStaysWithin80ColumnsAndSixGuards) {
  std::string yaml = "name: many\nsteps:\n";
  for (int i = 0; i < 9; ++i) {
    yaml += "  - id: step-with-a-rather-long-name-" + std::to_string(i) +
            "\n    run: echo x\n    guards:\n      - command: \"false; echo " +
            std::string(120, 'x') + "\"\n        on_fail: warn\n";
  }
  std::vector<std::string> summary;
  const std::string text = Text(yaml, &summary);
  for (const std::string& line : summary) EXPECT_LE(line.size(), 80u) << line;
  int guards = 0;
  for (const std::string& line : summary) guards += line.rfind("  step-with", 0) == 0;
  EXPECT_EQ(guards, 6) << text;
  EXPECT_NE(std::find(summary.begin(), summary.end(), "  ... and 3 more, under their steps"),
            summary.end())
      << text;
  EXPECT_LE(summary.size(), static_cast<size_t>(kSummaryLines - 1)) << text;
}

TEST_F(PlanTextTest, EachStepOnceWithItsScriptAsABlockAndEnvAligned) {
  const std::string text = Text(R"(name: once
params:
  empty: {type: string, default: ""}
  n: {type: integer, default: 3}
steps:
  - id: a
    run: |
      set -eu
      echo "$N"
    env: {N: "${{ params.n }}", LONGER_NAME: "${{ params.empty }}"}
  - id: b
    run: echo b
  - id: c
    needs: [a, b]
    if: ${{ params.n == 4 }}
    run: echo c
)");
  EXPECT_NE(text.find("\n      $ set -eu\n        echo \"$N\"\n      env:\n"
                      "        LONGER_NAME  \"\"\n        N            3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nparams:\n  empty  \"\"\n  n      3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  with --jobs these may run at the same time: a and b\n  a [run]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  c [run]: skipped: its if: is false\n      needs a and b\n"
                      "      if: ${{ params.n == 4 }} - false now\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("level "), std::string::npos) << text;
  EXPECT_EQ(text.find("-> would"), std::string::npos) << text;
}

// `--from migrate` of a maintenance: the steps before it are said not chosen (never as running),
// the summary counts, asks and times only what runs, names the need left out as the run does,
// and says what leaving out the window's first step means.
TEST_F(PlanTextTest, StepsLeftOutByAChoiceAreSaidNotChosenAndCountForNothing) {
  const std::string yaml = R"(name: chosen
downtime: {from: stop, to: start}
steps:
  - id: backup
    run: echo backup
    confirm: "Back up?"
    guards:
      - command: "false"
  - id: stop
    needs: [backup]
    run: echo stop
  - id: migrate
    needs: [stop]
    run: echo migrate
    confirm: "Migrate?"
  - id: start
    needs: [migrate]
    run: echo start
)";
  StepSelection from;
  from.from = "migrate";
  std::vector<std::string> summary;
  const std::string text = Text(yaml, &summary, from);
  auto has = [&](const std::string& line) {
    return std::find(summary.begin(), summary.end(), line) != summary.end();
  };
  EXPECT_TRUE(has("the run would start")) << text;  // backup's guard is not the run's
  EXPECT_TRUE(has("steps chosen: --from migrate")) << text;
  EXPECT_TRUE(has("steps: 4; 2 would run")) << text;
  EXPECT_TRUE(has("  not chosen (--from migrate), do not run: backup and stop")) << text;
  EXPECT_TRUE(has("  step 'migrate' needs 'stop', which is not selected and has not succeeded in"))
      << text;
  EXPECT_TRUE(has("    this run: it runs anyway")) << text;
  EXPECT_TRUE(has("asks for confirmation: migrate (--yes answers)")) << text;
  EXPECT_TRUE(has("  not chosen of them: stop; stop does not run: this run does not open the"))
      << text;
  EXPECT_EQ(text.find("guards that do not hold"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  backup [run]: not chosen (--from migrate), does not run\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n      guard command: not evaluated\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find(
          "\n| migrate [run]\n|     needs stop\n|     step 'migrate' needs 'stop', which is not "
          "selected and has not succeeded in this run: it runs anyway\n"),
      std::string::npos)
      << text;
  // --only stop: the window's end is left out; the service would stay down.
  StepSelection only;
  only.only = {"stop"};
  summary.clear();
  const std::string stop = Text(yaml, &summary, only);
  EXPECT_TRUE(has("  not chosen of them: migrate and start; start does not run: the window would"))
      << stop;
  EXPECT_TRUE(has("    stay open after this run. The expected downtime is that of earlier runs of"))
      << stop;
}

}  // namespace
}  // namespace runbook
