// Plans built by BuildPlan, as JSON (PlanToJson): what each step would do, definition and file
// hashes that stay what journals and saved plans hold. Text output: tests/e2e/.
#include "engine/plan.h"
#include "engine/saved_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "engine/fnv.h"
#include "steps/registry.h"
#include "tests/unit/fake_runner.h"

namespace runbook {
namespace {

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rb-plan-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  LoadedRunbook Load(const std::string& yaml) {
    Diagnostics diags;
    LoadOptions options;
    options.kinds = &BuiltinKinds();
    auto loaded = LoadRunbook(Write("rb.yaml", yaml), options, &diags);
    EXPECT_TRUE(loaded.has_value()) << (diags.ok() ? "" : diags.errors()[0].ToString());
    return std::move(*loaded);
  }

  // The plan as JSON.
  nlohmann::json Plan(const LoadedRunbook& loaded, bool offline, bool* blocked = nullptr) {
    PlanOptions options;
    options.state_dir = (dir_ / "state").string();
    options.offline = offline;
    auto r = BuildPlan(loaded, options, &runner_);
    EXPECT_TRUE(r.ok()) << r.message();
    if (!r.ok()) return {};
    if (blocked) *blocked = r->blocked;
    return PlanToJson(*r);
  }

  std::filesystem::path dir_;
  FakeRunner runner_;
};

const char kRunbook[] = R"(name: demo
description: "A \"demo\" with é"
params:
  who: {type: string, default: "wor\tld"}
  again: {type: boolean, default: false}
  count: {type: integer, default: 7}
  ratio: {type: number, default: 1.5}
  pause: {type: duration, default: 90s}
secrets:
  token: {env: PLAN_TEST_TOKEN}
databases:
  db: {conninfo: "dbname=x", password: "${{ secrets.token }}"}
  copy: {conninfo: "dbname=y"}
steps:
  - id: one
    run: echo one
  - id: two
    needs: [one]
    description: second
    run: [echo, "${{ params.who }}"]
    env: {B: "2", A: "${{ secrets.token }}"}
    confirm: Sure, ${{ params.who }}?
    guards:
      - command: "true"
        wait: 1m
      - command: "false"
        on_fail: warn
  - id: three
    needs: one
    if: ${{ params.again }}
    sql: {db: db, query: "SELECT ${{ params.who }}"}
    verify:
      - sql: {db: db, query: SELECT true}
  - id: four
    copy_rows: {from: db, to: copy, table: t, columns: [a, b], every: "2", order_by: id}
  - id: five
    needs: [four]
    manual: Look at ${{ params.who }}
finally:
  - id: last
    run: "true"
)";

TEST_F(PlanTest, OfflineJson) {
  setenv("PLAN_TEST_TOKEN", "s3cret", 1);
  LoadedRunbook loaded = Load(kRunbook);
  bool blocked = true;
  const nlohmann::json plan = Plan(loaded, /*offline=*/true, &blocked);
  EXPECT_FALSE(blocked);
  EXPECT_EQ(plan["blocked"], false);
  EXPECT_EQ(plan.dump().find("s3cret"), std::string::npos);

  EXPECT_EQ(plan["runbook"], "demo");
  EXPECT_EQ(plan["file_hash"], FileHash(loaded.runbook.path));
  EXPECT_TRUE(plan["expected_seconds"].is_null());
  // Params keep their types: numbers and booleans are not strings.
  EXPECT_EQ(
      plan["params"],
      (nlohmann::json{
          {"again", false}, {"count", 7}, {"pause", "90s"}, {"ratio", 1.5}, {"who", "wor\tld"}}));
  EXPECT_TRUE(plan["params"]["count"].is_number_integer());
  std::vector<std::string> order;
  for (const auto& s : plan["steps"]) order.push_back(s["id"]);
  EXPECT_EQ(order, (std::vector<std::string>{"one", "two", "three", "four", "five", "last"}));
  const auto& two = plan["steps"][1];
  EXPECT_EQ(two["level"], 1);
  EXPECT_EQ(two["definition"]["command"], "echo 'wor\tld'");
  EXPECT_EQ(two["definition"]["env"], (nlohmann::json{{"A", "***"}, {"B", "2"}}));
  EXPECT_EQ(two["confirm"], "Sure, wor\tld?");
  EXPECT_EQ(two["guards"].size(), 2u);
  EXPECT_EQ(two["guards"][0]["wait"], "1m");
  EXPECT_FALSE(two["guards"][0]["evaluated"]);
  EXPECT_EQ(plan["steps"][2]["condition"], "false");
  EXPECT_EQ(plan["steps"][2]["would"], "skip");
  EXPECT_EQ(plan["steps"][2]["details"].size(), 2u);  // the query, then as sent
  EXPECT_EQ(plan["steps"][4]["manual"], "Look at wor\tld");
  EXPECT_EQ(plan["steps"][5]["finally"], true);
  // A step's hash is its definition's, as the executor journals it.
  const std::map<std::string, std::string> secrets = {{"token", "s3cret"}};
  TemplateScope scope;
  scope.params = &loaded.params;
  scope.secrets = &secrets;
  auto def = ResolveDefinition(loaded.runbook.steps[1], loaded.runbook, scope);
  ASSERT_TRUE(def.ok()) << def.message();
  EXPECT_EQ(two["hash"], def->Hash());
  EXPECT_EQ(plan["steps"][0]["hash"], "3b36ec2ee581d208");
}

TEST_F(PlanTest, OnlineJsonShowsWhatTheGuardsSay) {
  LoadedRunbook loaded = Load(R"(name: guarded
steps:
  - id: a
    run: echo a
    guards:
      - command: "false"
  - id: b
    run: echo b
    done_when:
      - command: "true"
)");
  bool blocked = false;
  const nlohmann::json plan = Plan(loaded, /*offline=*/false, &blocked);
  EXPECT_TRUE(blocked);
  EXPECT_EQ(plan["blocked"], true);
  EXPECT_EQ(plan["steps"][0]["would"], "block");
  EXPECT_EQ(plan["steps"][0]["guards"][0]["held"], false);
  EXPECT_EQ(plan["steps"][1]["would"], "done");
}

TEST_F(PlanTest, DefinitionHashIsFnvOfTheCompactJson) {
  LoadedRunbook loaded = Load("name: h\nsteps:\n  - id: one\n    run: echo one\n");
  TemplateScope scope;
  scope.params = &loaded.params;
  auto def = ResolveDefinition(loaded.runbook.steps[0], loaded.runbook, scope);
  ASSERT_TRUE(def.ok());
  Fnv1a64 expected;
  expected.Update(nlohmann::json({{"kind", "run"},
                                  {"command", "echo one"},
                                  {"host", "local"},
                                  {"env", nlohmann::json::object()}})
                      .dump());
  EXPECT_EQ(def->Hash(), expected.Hex());
  EXPECT_EQ(def->Hash(), "3b36ec2ee581d208");  // journals of earlier versions hold this
}

TEST_F(PlanTest, FileHashIsTheHashOfTheContentAsAJsonString) {
  for (const std::string& content :
       {std::string(), std::string("name: x\n\tquote \" \x01\n"), std::string(70000, 'z'),
        std::string("non-ASCII: é 日本\n") + std::string(70000, 'q')}) {
    Fnv1a64 expected;
    expected.Update(nlohmann::json(content).dump());
    EXPECT_EQ(FileHash(Write("f.yaml", content)), expected.Hex()) << content.size();
  }
  EXPECT_EQ(FileHash((dir_ / "missing").string()), "");
}

TEST_F(PlanTest, BuildPlanComparesEqualToItselfAndNamesChanges) {
  setenv("PLAN_TEST_TOKEN", "s3cret", 1);
  LoadedRunbook loaded = Load(kRunbook);
  PlanOptions options;
  options.state_dir = (dir_ / "state").string();
  options.offline = true;
  auto a = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(ComparePlans(PlanToJson(*a), PlanToJson(*a)).empty());
  // A plan saved when every param value was text compares equal to its typed form.
  nlohmann::json as_text = PlanToJson(*a);
  as_text["params"]["count"] = "7";
  as_text["params"]["again"] = "false";
  EXPECT_TRUE(ComparePlans(as_text, PlanToJson(*a)).empty());
  loaded.params["who"] = "else";
  loaded.params["count"] = "8";
  auto b = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(b.ok());
  const std::vector<std::string> diffs = ComparePlans(PlanToJson(*a), PlanToJson(*b));
  ASSERT_EQ(diffs.size(), 5u);  // the two params, then the three steps that use `who`
  EXPECT_EQ(diffs[0], "param 'count': 7 in the plan, 8 now");
  EXPECT_EQ(diffs[1], "param 'who': \"wor\\tld\" in the plan, \"else\" now");
}

// A saved plan is read back only when every field `run --plan` reads has its type; the error
// names the field (the file may be hand-edited or not a plan at all).
TEST_F(PlanTest, SavedPlanCheckedFieldByField) {
  setenv("PLAN_TEST_TOKEN", "s3cret", 1);
  PlanOptions options;
  options.state_dir = (dir_ / "state").string();
  options.offline = true;
  const LoadedRunbook loaded = Load(kRunbook);  // the plan points into it
  auto plan = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(plan.ok());
  const nlohmann::json good = PlanToJson(*plan);
  EXPECT_TRUE(CheckSavedPlan(good).ok());
  auto error = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = good;
    edit(j);
    return CheckSavedPlan(j).message();
  };
  EXPECT_EQ(CheckSavedPlan(nlohmann::json::object()).message(), "field format is missing");
  EXPECT_EQ(CheckSavedPlan(nlohmann::json::array()).message(),
            "the plan must be an object, not a list");
  EXPECT_EQ(error([](auto& j) { j["steps"] = "all"; }), "steps must be a list, not a string");
  EXPECT_EQ(error([](auto& j) { j["steps"][0]["id"] = 7; }),
            "steps[0].id must be a string, not a number");
  EXPECT_EQ(error([](auto& j) { j.erase("params"); }), "field params is missing");
  EXPECT_EQ(error([](auto& j) { j["params"]["who"] = nlohmann::json::array(); }),
            "params.who must be a single value, not a list");
  EXPECT_EQ(
      error([](auto& j) { j["sets"] = nlohmann::json::array({nlohmann::json::array({"who"})}); }),
      "sets[0] must be a [NAME, VALUE] pair of strings");
  EXPECT_EQ(error([](auto& j) { j["format"] = 2; }),
            "format 2 is not a plan format this runbook reads (1)");
  EXPECT_EQ(error([](auto& j) {
              j["steps"][0]["guards"] = nlohmann::json::array({{{"evaluated", "yes"}}});
            }),
            "steps[0].guards[0].evaluated must be true or false, not a string");
  // A step saved without its definition (it did not resolve) still compares.
  nlohmann::json no_definition = good;
  no_definition["steps"][0].erase("definition");
  no_definition["steps"][0]["hash"] = "other";
  ASSERT_TRUE(CheckSavedPlan(no_definition).ok());
  EXPECT_EQ(ComparePlans(no_definition, good).size(), 1u);
}

TEST_F(PlanTest, MissingSecretFails) {
  unsetenv("PLAN_TEST_TOKEN");
  LoadedRunbook loaded = Load(kRunbook);
  PlanOptions options;
  options.offline = true;
  auto r = BuildPlan(loaded, options, &runner_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("PLAN_TEST_TOKEN"), std::string::npos) << r.message();
}

// The plan of `run --from b`: the step before it is not chosen, said so ("not_chosen", never
// "run"), its guard not evaluated, so it blocks nothing; b runs although its need is left out,
// as the run says before anything runs.
const char kChain[] = R"(name: chain
steps:
  - id: a
    run: echo a
    guards:
      - command: "false"
  - id: b
    needs: [a]
    run: echo b
    guards:
      - command: "true"
  - id: c
    needs: [b]
    run: echo c
    confirm: "Sure?"
)";

TEST_F(PlanTest, AChoiceOfStepsLeavesTheOthersOutAndTheirGuardsUnevaluated) {
  const LoadedRunbook loaded = Load(kChain);
  PlanOptions options;
  options.state_dir = (dir_ / "state").string();
  auto whole = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->verdict, PlanVerdict::kBlocked);  // a's guard, without a choice
  options.selection.from = "b";
  auto plan = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(plan.ok()) << plan.message();
  EXPECT_EQ(plan->verdict, PlanVerdict::kStart);
  EXPECT_FALSE(plan->blocked);
  const nlohmann::json j = PlanToJson(*plan);
  EXPECT_EQ(j["selection"], (nlohmann::json{{"only", nlohmann::json::array()},
                                            {"from", "b"},
                                            {"rerun", nlohmann::json::array()}}));
  EXPECT_EQ(j["steps"][0]["chosen"], false);
  EXPECT_EQ(j["steps"][0]["would"], "not_chosen");
  EXPECT_EQ(j["steps"][0]["guards"][0]["evaluated"], false);
  EXPECT_EQ(j["steps"][1]["chosen"], true);
  EXPECT_EQ(j["steps"][1]["would"], "run");
  EXPECT_EQ(j["steps"][1]["needs_left_out"], nlohmann::json::array({"a"}));
  EXPECT_EQ(j["steps"][1]["guards"][0]["held"], true);
  EXPECT_FALSE(j["steps"][2].contains("needs_left_out"));  // b is chosen
  EXPECT_EQ(LeftOutNeedText("b", "a"),
            "step 'b' needs 'a', which is not selected and has not succeeded in this run: it "
            "runs anyway");
  // --only c: a and b left out; c's need b named.
  options.selection = {};
  options.selection.only = {"c"};
  auto only = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(only.ok());
  const nlohmann::json o = PlanToJson(*only);
  EXPECT_EQ(o["steps"][1]["would"], "not_chosen");
  EXPECT_EQ(o["steps"][2]["needs_left_out"], nlohmann::json::array({"b"}));
  // Without a choice every step is chosen, and the selection is empty.
  const nlohmann::json w = PlanToJson(*whole);
  EXPECT_EQ(w["steps"][0]["chosen"], true);
  EXPECT_TRUE(w["selection"]["from"].is_null());
}

// A saved plan records the choice: `run --plan` takes it (SavedSelection) and refuses a run that
// chooses otherwise; a plan saved before plans recorded it chose every step.
TEST_F(PlanTest, ASavedPlanRecordsTheStepsChosen) {
  const LoadedRunbook loaded = Load(kChain);
  PlanOptions options;
  options.state_dir = (dir_ / "state").string();
  options.offline = true;
  options.selection.only = {"b", "c"};
  auto chosen = BuildPlan(loaded, options, &runner_);
  options.selection = {};
  auto every = BuildPlan(loaded, options, &runner_);
  ASSERT_TRUE(chosen.ok() && every.ok());
  const nlohmann::json saved = PlanToJson(*chosen);
  EXPECT_TRUE(CheckSavedPlan(saved).ok());
  EXPECT_EQ(SavedSelection(saved).Describe(), "--only b,c");
  EXPECT_TRUE(ComparePlans(saved, saved).empty());
  EXPECT_EQ(ComparePlans(saved, PlanToJson(*every)),
            (std::vector<std::string>{"the steps chosen: --only b,c in the plan, every step now"}));
  nlohmann::json old = PlanToJson(*every);
  old.erase("selection");
  EXPECT_TRUE(SavedSelection(old).empty());
  EXPECT_TRUE(ComparePlans(old, PlanToJson(*every)).empty());
  nlohmann::json bad = saved;
  bad["selection"]["only"][1] = 3;
  EXPECT_EQ(CheckSavedPlan(bad).message(), "selection.only[1] must be a string, not a number");
  bad = saved;
  bad["selection"]["from"] = 3;
  EXPECT_EQ(CheckSavedPlan(bad).message(), "selection.from must be a string or null, not a number");
}

}  // namespace
}  // namespace runbook
