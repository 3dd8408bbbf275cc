#include "engine/params.h"

#include <gtest/gtest.h>

#include "engine/parse.h"
#include "steps/registry.h"

namespace runbook {
namespace {

std::string Errors(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& e : d.errors()) out += e.ToString() + "\n";
  return out;
}

TEST(CanonicalParamValueTest, Integers) {
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "007"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "0"), "0");
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "10"), "10");
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "+5"), "5");
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "-0"), "0");
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "-12"), "-12");
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "abc"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "1.5"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, ""), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kInteger, "99999999999999999999"), std::nullopt);
}

TEST(CanonicalParamValueTest, ALeadingZeroIsExplained) {
  EXPECT_EQ(DescribeMisfit(ParamType::kInteger, "abc"), "an integer");
  EXPECT_EQ(DescribeMisfit(ParamType::kInteger, "-010"),
            "an integer; -010 has a leading zero, which YAML readers take differently (octal 8 "
            "to YAML 1.1, 10 to YAML 1.2): write -10");
  EXPECT_EQ(DescribeMisfit(ParamType::kString, "010"), "a string");
}

TEST(CanonicalParamValueTest, OtherTypes) {
  EXPECT_EQ(CanonicalParamValue(ParamType::kNumber, "1.5"), "1.5");
  EXPECT_EQ(CanonicalParamValue(ParamType::kNumber, "-2e3"), "-2e3");
  EXPECT_EQ(CanonicalParamValue(ParamType::kNumber, ".5"), ".5");
  EXPECT_EQ(CanonicalParamValue(ParamType::kNumber, "1e"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kNumber, "nan"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kBoolean, "TRUE"), "true");
  EXPECT_EQ(CanonicalParamValue(ParamType::kBoolean, "False"), "false");
  EXPECT_EQ(CanonicalParamValue(ParamType::kBoolean, "yes"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kDuration, "1h30m"), "1h30m");
  EXPECT_EQ(CanonicalParamValue(ParamType::kDuration, "90"), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kPath, ""), std::nullopt);
  EXPECT_EQ(CanonicalParamValue(ParamType::kPath, "/tmp/x"), "/tmp/x");
  EXPECT_EQ(CanonicalParamValue(ParamType::kString, ""), "");
}

TEST(ParamTypeTest, NamesRoundTrip) {
  for (const std::string& n : ParamTypeNames()) {
    std::optional<ParamType> t = ParamTypeFromName(n);
    ASSERT_TRUE(t.has_value()) << n;
    EXPECT_EQ(ParamTypeName(*t), n);
  }
  EXPECT_EQ(ParamTypeFromName("int"), std::nullopt);
}

class ResolveParamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Diagnostics d;
    std::optional<Runbook> rb = ParseRunbook("rb.yaml", R"(name: t
params:
  sample_every: {type: integer, default: 500}
  workdir: {type: path}
  reindex: {type: boolean, default: false}
  wait: {type: duration, default: 5m}
steps: [{id: a, run: x}]
)",
                                             BuiltinKinds(), &d);
    ASSERT_TRUE(rb.has_value()) << Errors(d);
    runbook_ = std::move(*rb);
  }

  Inventory Inv(const std::string& text) {
    Diagnostics d;
    std::optional<Inventory> inv = ParseInventory("inv.yaml", text, &d);
    EXPECT_TRUE(inv.has_value()) << Errors(d);
    return inv ? std::move(*inv) : Inventory{};
  }

  Runbook runbook_;
};

TEST_F(ResolveParamsTest, DefaultsThenInventoriesThenSets) {
  Diagnostics d;
  std::vector<Inventory> invs = {Inv("params: {sample_every: 1000, workdir: /a}\n"),
                                 Inv("params: {workdir: /b, unrelated: 1}\n")};
  ParamValues v = ResolveParams(runbook_, invs, {{"reindex", "TRUE"}, {"sample_every", "+7"}},
                                RequireParams::kYes, &d);
  EXPECT_TRUE(d.ok()) << Errors(d);
  EXPECT_EQ(v, (ParamValues{
                   {"sample_every", "7"}, {"workdir", "/b"}, {"reindex", "true"}, {"wait", "5m"}}));
}

TEST_F(ResolveParamsTest, LaterSetWins) {
  Diagnostics d;
  ParamValues v =
      ResolveParams(runbook_, {}, {{"workdir", "/x"}, {"workdir", "/y"}}, RequireParams::kYes, &d);
  EXPECT_EQ(v["workdir"], "/y");
}

TEST_F(ResolveParamsTest, ReportsEveryProblem) {
  Diagnostics d;
  std::vector<Inventory> invs = {Inv("params:\n  reindex: maybe\n")};
  ResolveParams(runbook_, invs,
                {{"sample_every", "abc"}, {"sampel_every", "5"}, {"nothing_like_it", "1"}},
                RequireParams::kYes, &d);
  EXPECT_EQ(Errors(d),
            "inv.yaml:2:3: value 'maybe' does not fit: param 'reindex' is a boolean (true or "
            "false)\n"
            "--set: --set sample_every=abc: param 'sample_every' is an integer\n"
            "--set: --set sampel_every=5: unknown param 'sampel_every' (did you mean "
            "'sample_every'?)\n"
            "--set: --set nothing_like_it=1: unknown param 'nothing_like_it'\n"
            "rb.yaml:4:3: param 'workdir' is required: set it with --set workdir=VALUE or in an "
            "inventory\n");
  ASSERT_FALSE(d.errors().empty());
  EXPECT_EQ(d.errors()[1].loc.line, 0);
  EXPECT_EQ(d.errors()[1].loc.file, "--set");
}

TEST_F(ResolveParamsTest, MissingRequiredIsFineWithoutRequire) {
  Diagnostics d;
  ParamValues v = ResolveParams(runbook_, {}, {}, RequireParams::kNo, &d);
  EXPECT_TRUE(d.ok()) << Errors(d);
  EXPECT_EQ(v.count("workdir"), 0u);
  EXPECT_EQ(v["sample_every"], "500");
}

TEST(ApplyParamDurationsTest, SetsWaitFromParams) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("rb.yaml", R"(name: t
params:
  idle_wait: {type: duration, default: 2m}
  count: {type: integer, default: 3}
steps:
  - id: a
    run: x
    guards:
      - postgres_idle: {db: d}
        wait: "${{ params.idle_wait }}"
      - postgres_idle: {db: d}
        wait: ${{params.count}}
      - postgres_idle: {db: d}
        wait: "${{ params.idle_wiat }}"
      - postgres_idle: {db: d}
        wait: 5m
)",
                                           BuiltinKinds(), &d);
  ASSERT_TRUE(rb.has_value()) << Errors(d);
  EXPECT_EQ(rb->steps[0].guards[0].wait_param->name, "idle_wait");
  EXPECT_EQ(rb->steps[0].guards[0].wait_param->loc.col, 27);
  ParamValues values = ResolveParams(*rb, {}, {{"idle_wait", "90s"}}, RequireParams::kYes, &d);
  ApplyParamDurations(values, &*rb, &d);
  EXPECT_EQ(rb->steps[0].guards[0].wait, std::chrono::seconds(90));
  EXPECT_EQ(rb->steps[0].guards[3].wait, std::chrono::minutes(5));
  EXPECT_EQ(Errors(d),
            "rb.yaml:12:25: 'wait' needs a duration, and param 'count' is an integer\n"
            "rb.yaml:14:27: unknown param 'idle_wiat' (did you mean 'idle_wait'?)\n");
}

TEST(ParamJsonTest, KeepsTheDeclaredType) {
  EXPECT_EQ(ParamJson(ParamType::kInteger, "-42"), nlohmann::json(-42));
  EXPECT_TRUE(ParamJson(ParamType::kInteger, "9223372036854775807").is_number_integer());
  EXPECT_EQ(ParamJson(ParamType::kNumber, "1.5"), nlohmann::json(1.5));
  EXPECT_EQ(ParamJson(ParamType::kNumber, "-2e3"), nlohmann::json(-2000.0));
  EXPECT_EQ(ParamJson(ParamType::kNumber, "+.5"), nlohmann::json(0.5));  // no JSON spelling
  EXPECT_EQ(ParamJson(ParamType::kNumber, "1."), nlohmann::json(1.0));
  EXPECT_EQ(ParamJson(ParamType::kNumber, "1e999"), nlohmann::json("1e999"));  // no double holds it
  EXPECT_EQ(ParamJson(ParamType::kBoolean, "true"), nlohmann::json(true));
  EXPECT_EQ(ParamJson(ParamType::kBoolean, "false"), nlohmann::json(false));
  EXPECT_EQ(ParamJson(ParamType::kString, "12"), nlohmann::json("12"));
  EXPECT_EQ(ParamJson(ParamType::kPath, "/tmp"), nlohmann::json("/tmp"));
  EXPECT_EQ(ParamJson(ParamType::kDuration, "5m"), nlohmann::json("5m"));
  EXPECT_EQ(ParamText(nlohmann::json(-42)), "-42");
  EXPECT_EQ(ParamText(nlohmann::json(false)), "false");
  EXPECT_EQ(ParamText(nlohmann::json("a b")), "a b");
}

TEST(ApplyParamDurationsTest, OnlyAParamReference) {
  Diagnostics d;
  EXPECT_FALSE(ParseRunbook("rb.yaml",
                            "name: t\nsteps:\n  - id: a\n    run: x\n    guards:\n"
                            "      - command: y\n        wait: \"${{ params.a }}s\"\n",
                            BuiltinKinds(), &d));
  EXPECT_EQ(Errors(d),
            "rb.yaml:7:15: 'wait' must be a duration (e.g. 5m) or \"${{ params.NAME }}\" naming "
            "a duration param, got '${{ params.a }}s'\n");
}

}  // namespace
}  // namespace runbook
