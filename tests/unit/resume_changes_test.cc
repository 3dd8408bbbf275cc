#include "engine/resume_changes.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

StepState Ended(StepStatus status, const std::string& hash) {
  StepState s;
  s.status = status;
  s.hash = hash;
  return s;
}

// The run: one (succeeded, hash h1), two (succeeded, h2), three (failed, h3) needing two;
// finally: cleanup.
RunState TheRun() {
  RunState run;
  run.step_ids = {"one", "two", "three"};
  run.finally_ids = {"cleanup"};
  run.step_needs = {{"one", {}}, {"two", {}}, {"three", {"two"}}, {"cleanup", {}}};
  run.steps["one"] = Ended(StepStatus::kSucceeded, "h1");
  run.steps["two"] = Ended(StepStatus::kSucceeded, "h2");
  run.steps["three"] = Ended(StepStatus::kFailed, "h3");
  return run;
}

TEST(ResumeChangesTest, NothingChanged) {
  EXPECT_TRUE(CompareWithRun(TheRun(), {{"one", "h1", {}},
                                        {"two", "h2", {}},
                                        {"three", "h3", {"two"}},
                                        {"cleanup", "hc", {}, true}})
                  .empty());
}

TEST(ResumeChangesTest, AFinishedStepUnderANewIdIsRenamed) {
  const RunState run = TheRun();
  const std::vector<StepShape> now = {{"one", "h1", {}},
                                      {"two-b", "h2", {}},
                                      {"three", "h3", {"two-b"}},
                                      {"four", "h4", {}},
                                      {"cleanup", "hc", {}, true}};
  ResumeChanges c = CompareWithRun(run, now);
  EXPECT_EQ(c.renamed, (std::vector<std::pair<std::string, std::string>>{{"two", "two-b"}}));
  EXPECT_EQ(c.added, std::vector<std::string>{"four"});
  EXPECT_TRUE(c.removed.empty());
  EXPECT_EQ(c.needs_changed, std::vector<std::string>{"three"});
  EXPECT_EQ(
      DescribeChanges(c, run, now),
      (std::vector<std::string>{"renamed: two -> two-b (same definition, finished: not run again)",
                                "added: four", "needs of three: [two] -> [two-b]"}));
}

TEST(ResumeChangesTest, AnUnfinishedOrChangedStepUnderANewIdIsNew) {
  const RunState run = TheRun();
  // three failed: three-b with its definition is a new step; two-b's definition changed.
  const std::vector<StepShape> now = {
      {"one", "h1", {}}, {"two-b", "h2-changed", {}}, {"three-b", "h3", {}}};
  ResumeChanges c = CompareWithRun(run, now);
  EXPECT_TRUE(c.renamed.empty());
  EXPECT_EQ(c.added, (std::vector<std::string>{"two-b", "three-b"}));
  EXPECT_EQ(c.removed, (std::vector<std::string>{"two", "three", "cleanup"}));
  EXPECT_EQ(DescribeChanges(c, run, now)[2], "removed: two (succeeded in this run)");
  EXPECT_EQ(DescribeChanges(c, run, now)[3], "removed: three (failed in this run)");
}

TEST(ResumeChangesTest, NeedsAreComparedOnlyWhenJournaled) {
  RunState run = TheRun();
  run.step_needs.clear();  // a journal from before step_needs
  EXPECT_TRUE(CompareWithRun(run, {{"one", "h1", {"two"}},
                                   {"two", "h2", {}},
                                   {"three", "h3", {}},
                                   {"cleanup", "hc", {}, true}})
                  .empty());
}

}  // namespace
}  // namespace runbook
