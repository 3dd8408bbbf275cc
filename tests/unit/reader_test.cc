#include "engine/reader.h"

#include <gtest/gtest.h>

#include "engine/units.h"
#include "engine/yaml_parse.h"

namespace runbook {
namespace {

std::string Errors(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& e : d.errors()) out += e.ToString() + "\n";
  return out;
}

DocNode Doc(const std::string& text) {
  Diagnostics d;
  std::optional<DocNode> n = ParseYaml("r.yaml", text, &d);
  EXPECT_TRUE(n.has_value()) << Errors(d);
  return n ? *n : DocNode{};
}

const std::vector<std::string> kKeys = {"id", "needs", "timeout", "flag", "count"};

TEST(MapReaderTest, UnknownKeyWithSuggestion) {
  DocNode n = Doc("id: a\nnedds: [b]\n");
  Diagnostics d;
  MapReader r(n, "step 'a'", kKeys, &d);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(Errors(d), "r.yaml:2:1: unknown key 'nedds' in step 'a' (did you mean 'needs'?)\n");
  ASSERT_EQ(r.unknown_keys().size(), 1u);
  EXPECT_EQ(r.unknown_keys()[0].second, "needs");
}

TEST(MapReaderTest, UnknownKeyListsValidKeysWithoutSuggestion) {
  DocNode n = Doc("zebra: 1\n");
  Diagnostics d;
  MapReader r(n, "step 'a'", kKeys, &d);
  EXPECT_EQ(Errors(d),
            "r.yaml:1:1: unknown key 'zebra' in step 'a'; valid keys: id, needs, timeout, flag, "
            "count\n");
}

TEST(MapReaderTest, NotAMapping) {
  DocNode n = Doc("[1, 2]\n");
  Diagnostics d;
  MapReader r(n, "step 'a'", kKeys, &d);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Get("id"), nullptr);
  EXPECT_EQ(Errors(d), "r.yaml:1:1: expected a mapping for step 'a', got a sequence\n");
}

TEST(MapReaderTest, TypedGettersReportAtTheValue) {
  DocNode n = Doc("id: {x: 1}\nneeds: {a: b}\ntimeout: 5 minutes\nflag: 'true'\ncount: 12x\n");
  Diagnostics d;
  MapReader r(n, "step 'a'", kKeys, &d);
  EXPECT_EQ(r.String("id"), std::nullopt);
  EXPECT_EQ(r.TextList("needs", AllowSingle::kYes), std::nullopt);
  EXPECT_EQ(r.GetDuration("timeout"), std::nullopt);
  EXPECT_EQ(r.Bool("flag"), std::nullopt);
  EXPECT_EQ(r.Int("count", 0, 10), std::nullopt);
  EXPECT_EQ(Errors(d),
            "r.yaml:1:5: expected a string for 'id', got a mapping\n"
            "r.yaml:2:8: expected a list of strings for 'needs', got a mapping\n"
            "r.yaml:3:10: 'timeout': '5 minutes' is not a duration: use e.g. 500ms, 90s, 5m, 2h, "
            "1h30m, 1d\n"
            "r.yaml:4:7: expected true or false for 'flag', got the quoted string 'true'\n"
            "r.yaml:5:8: expected an integer for 'count', got '12x'\n");
}

TEST(MapReaderTest, TypedGettersReadValues) {
  DocNode n = Doc("id: a\nneeds: b\ntimeout: 1h30m\nflag: True\ncount: '7'\n");
  Diagnostics d;
  MapReader r(n, "step 'a'", kKeys, &d);
  EXPECT_EQ(r.String("id"), "a");
  auto needs = r.TextList("needs", AllowSingle::kYes);
  ASSERT_TRUE(needs.has_value());
  ASSERT_EQ(needs->size(), 1u);
  EXPECT_EQ((*needs)[0].raw, "b");
  EXPECT_EQ((*needs)[0].loc.line, 2);
  EXPECT_EQ((*needs)[0].raw_col, 8);
  EXPECT_EQ(r.GetText("id")->raw_col, 5);
  EXPECT_EQ(r.GetDuration("timeout"), std::chrono::minutes(90));
  EXPECT_EQ(r.Bool("flag"), true);
  EXPECT_EQ(r.Int("count", 0, 10), 7);
  EXPECT_TRUE(d.ok()) << Errors(d);
}

TEST(MapReaderTest, BooleansRefuseYesNo) {
  DocNode n = Doc("flag: yes\n");
  Diagnostics d;
  MapReader r(n, "x", kKeys, &d);
  EXPECT_EQ(r.Bool("flag"), std::nullopt);
  EXPECT_EQ(Errors(d), "r.yaml:1:7: expected true or false for 'flag', got 'yes'\n");
}

TEST(MapReaderTest, IntegerRange) {
  DocNode n = Doc("count: 11\n");
  Diagnostics d;
  MapReader r(n, "x", kKeys, &d);
  EXPECT_EQ(r.Int("count", 0, 10), std::nullopt);
  EXPECT_EQ(Errors(d), "r.yaml:1:8: 'count' must be between 0 and 10, got 11\n");
}

TEST(MapReaderTest, ChoiceGivesTheIndexOrListsTheChoices) {
  const std::vector<std::string> kinds = {"abort", "skip", "warn"};
  DocNode n = Doc("flag: warn\nid: skp\ncount: [a]\nneeds: x\n");
  Diagnostics d;
  MapReader r(n, "x", kKeys, &d);
  EXPECT_EQ(r.Choice("flag", kinds), std::optional<size_t>(2));
  EXPECT_EQ(r.Choice("timeout", kinds), std::nullopt);  // absent: no error
  EXPECT_EQ(r.Choice("id", kinds), std::nullopt);
  EXPECT_EQ(r.Choice("count", kinds), std::nullopt);
  EXPECT_EQ(r.Choice("needs", {"one", "other"}), std::nullopt);
  EXPECT_EQ(Errors(d),
            "r.yaml:2:5: 'id' must be abort, skip or warn, got 'skp' (did you mean 'skip'?)\n"
            "r.yaml:3:8: 'count' must be abort, skip or warn, got a sequence\n"
            "r.yaml:4:8: 'needs' must be one or other, got 'x'\n");
}

TEST(MapReaderTest, RequireReportsAtTheMapping) {
  DocNode n = Doc("\n  id: a\n");
  Diagnostics d;
  MapReader r(n, "'sql' of step 'a'", kKeys, &d);
  EXPECT_EQ(r.RequireText("needs"), std::nullopt);
  EXPECT_EQ(Errors(d), "r.yaml:2:3: missing required key 'needs' in 'sql' of step 'a'\n");
}

TEST(MapReaderTest, NullIsNotAString) {
  DocNode n = Doc("id:\nneeds: [a, [b]]\n");
  Diagnostics d;
  MapReader r(n, "x", kKeys, &d);
  EXPECT_EQ(r.GetText("id"), std::nullopt);
  EXPECT_EQ(r.TextList("needs", AllowSingle::kNo), std::nullopt);
  EXPECT_EQ(Errors(d),
            "r.yaml:1:4: expected a string for 'id', got null\n"
            "r.yaml:2:12: expected a string for an item of 'needs', got a sequence\n");
}

TEST(CheckLiteralTest, ChecksOnlyUntemplatedText) {
  Diagnostics d;
  const std::string f = "c.yaml";
  CheckLiteral(Text{"${{ params.size }}", {f, 1, 1}}, "'min_size'", ParseSize, &d);
  CheckLiteral(Text{"1MB", {f, 2, 1}}, "'min_size'", ParseSize, &d);
  EXPECT_TRUE(d.ok());
  CheckLiteral(Text{"1 MB", {f, 3, 1}}, "'min_size'", ParseSize, &d);
  EXPECT_EQ(Errors(d),
            "c.yaml:3:1: 'min_size': '1 MB' is not a size (unknown unit ' MB'): use e.g. 123, "
            "512KiB, 1MB, 10GB\n");
}

}  // namespace
}  // namespace runbook
