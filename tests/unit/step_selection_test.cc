#include "engine/step_selection.h"

#include <gtest/gtest.h>

#include "engine/graph.h"
#include "engine/model.h"

namespace runbook {
namespace {

// backup -> migrate -> restart, and `report`, which needs nothing, last in the file; `notify`
// in finally.
Runbook Make() {
  Runbook rb;
  rb.name = "upgrade";
  for (const auto& [id, need] : std::vector<std::pair<std::string, std::string>>{
           {"backup", ""}, {"migrate", "backup"}, {"restart", "migrate"}, {"report", ""}}) {
    Step s;
    s.id = id;
    if (!need.empty()) s.needs.push_back({need, {}});
    rb.steps.push_back(s);
  }
  Step f;
  f.id = "notify";
  f.in_finally = true;
  rb.finally.push_back(f);
  return rb;
}

std::vector<std::string> Selected(const StepSelection& sel) {
  const Runbook rb = Make();
  auto graph = BuildGraph(rb);
  EXPECT_TRUE(graph.ok());
  std::vector<bool> on = SelectedSteps(rb, *graph, sel);
  std::vector<std::string> out;
  for (size_t i = 0; i < on.size(); ++i) {
    if (on[i]) out.push_back(rb.steps[i].id);
  }
  return out;
}

TEST(StepSelectionTest, NothingChosenRunsEverything) {
  EXPECT_EQ(Selected({}), (std::vector<std::string>{"backup", "migrate", "restart", "report"}));
}

TEST(StepSelectionTest, OnlyTheNamedSteps) {
  EXPECT_EQ(Selected({{"restart", "backup"}, "", {}}),
            (std::vector<std::string>{"backup", "restart"}));
}

TEST(StepSelectionTest, FromCutsThePlansOrder) {
  // `report` does not depend on migrate but comes after it: it runs; backup, before it, does not.
  EXPECT_EQ(Selected({{}, "migrate", {}}),
            (std::vector<std::string>{"migrate", "restart", "report"}));
}

TEST(StepSelectionTest, RerunIsSelectedToo) {
  EXPECT_EQ(Selected({{}, "restart", {"backup"}}),
            (std::vector<std::string>{"backup", "restart", "report"}));
  EXPECT_EQ(Selected({{}, "", {"backup"}}),
            (std::vector<std::string>{"backup", "migrate", "restart", "report"}));
}

TEST(StepSelectionTest, UnknownIdsSuggestTheNearest) {
  const Runbook rb = Make();
  Status st = CheckSelection(rb, {{"migrte"}, "", {}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "--only migrte: runbook 'upgrade' has no step 'migrte' (did you mean 'migrate'?)");
  st = CheckSelection(rb, {{}, "restat", {}});
  EXPECT_NE(st.message().find("--from restat"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("did you mean 'restart'"), std::string::npos) << st.message();
  st = CheckSelection(rb, {{}, "", {"nothing-like-it"}});
  EXPECT_EQ(st.message(),
            "--rerun nothing-like-it: runbook 'upgrade' has no step 'nothing-like-it'");
  st = CheckSelection(rb, {{"notify"}, "", {}});
  EXPECT_NE(st.message().find("is a finally step"), std::string::npos) << st.message();
  EXPECT_FALSE(CheckSelection(rb, {{"backup"}, "migrate", {}}).ok());
  EXPECT_TRUE(CheckSelection(rb, {{"backup", "migrate"}, "", {"backup"}}).ok());
}

TEST(StepSelectionTest, SplitsAndDescribes) {
  EXPECT_EQ(SplitStepIds("a,,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitStepIds(""), std::vector<std::string>{});
  StepSelection sel{{"a", "b"}, "", {"c"}};
  EXPECT_EQ(sel.Describe(), "--only a,b --rerun c");
  EXPECT_EQ(StepSelection{}.Describe(), "");
}

}  // namespace
}  // namespace runbook
