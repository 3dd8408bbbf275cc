#include "engine/yaml_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace runbook {
namespace {

std::string Errors(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& e : d.errors()) out += e.ToString() + "\n";
  return out;
}

DocNode ParseOk(const std::string& text) {
  Diagnostics d;
  std::optional<DocNode> n = ParseYaml("t.yaml", text, &d);
  EXPECT_TRUE(n.has_value()) << Errors(d);
  EXPECT_TRUE(d.ok()) << Errors(d);
  return n ? *n : DocNode{};
}

std::string ParseErrors(const std::string& text) {
  Diagnostics d;
  ParseYaml("t.yaml", text, &d);
  EXPECT_FALSE(d.ok());
  return Errors(d);
}

// Errors after which no tree is returned.
std::string FatalErrors(const std::string& text) {
  Diagnostics d;
  std::optional<DocNode> n = ParseYaml("t.yaml", text, &d);
  EXPECT_FALSE(n.has_value());
  EXPECT_FALSE(d.ok());
  return Errors(d);
}

TEST(YamlParseTest, BuildsTreeWithLocations) {
  DocNode root = ParseOk("name: x\nsteps:\n  - id: a\n    run: echo hi\n");
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.MapSize(), 2u);
  EXPECT_EQ(root.Key(0).scalar, "name");
  EXPECT_EQ(root.Key(0).loc.line, 1);
  EXPECT_EQ(root.Key(0).loc.col, 1);
  const DocNode* steps = root.Find("steps");
  ASSERT_NE(steps, nullptr);
  ASSERT_TRUE(steps->IsSeq());
  const DocNode& step = steps->children.at(0);
  EXPECT_EQ(step.loc.line, 3);
  EXPECT_EQ(step.loc.col, 5);
  const DocNode* run = step.Find("run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->scalar, "echo hi");
  EXPECT_EQ(run->loc.line, 4);
  EXPECT_EQ(run->loc.col, 10);
  EXPECT_EQ(run->loc.file, "t.yaml");
  EXPECT_EQ(root.Find("missing"), nullptr);
}

TEST(YamlParseTest, TellsQuotedFromPlainAndNull) {
  DocNode root =
      ParseOk("a: yes\nb: 'yes'\nc: \"500\"\nd:\ne: ~\nf: null\ng: |\n  text\nh: !!str 5\n");
  EXPECT_FALSE(root.Find("a")->quoted);
  EXPECT_TRUE(root.Find("b")->quoted);
  EXPECT_TRUE(root.Find("c")->quoted);
  EXPECT_EQ(root.Find("c")->scalar, "500");
  EXPECT_TRUE(root.Find("d")->IsNull());
  EXPECT_EQ(root.Find("d")->loc.line, 4);  // an empty value is located at its key
  EXPECT_TRUE(root.Find("e")->IsNull());
  EXPECT_TRUE(root.Find("f")->IsNull());
  EXPECT_TRUE(root.Find("g")->quoted);
  EXPECT_EQ(root.Find("g")->scalar, "text\n");
  EXPECT_TRUE(root.Find("h")->quoted);
  EXPECT_EQ(root.Find("h")->scalar, "5");
}

TEST(YamlParseTest, RawColumnWhenVerbatim) {
  DocNode root = ParseOk(
      "a: plain text\nb: 'single'\nc: \"double\"\nd: \"esc\\n\"\ne: 'it''s'\nf: |\n  block\n"
      "g: folded\n  plain\nh: \"caf\xc3\xa9\"\n");
  EXPECT_EQ(root.Find("a")->raw_col, 4);
  EXPECT_EQ(root.Find("b")->raw_col, 5);
  EXPECT_EQ(root.Find("c")->raw_col, 5);
  EXPECT_EQ(root.Find("d")->raw_col, 0);  // an escape: not column for column
  EXPECT_EQ(root.Find("e")->raw_col, 0);
  EXPECT_EQ(root.Find("f")->raw_col, 0);
  EXPECT_EQ(root.Find("g")->raw_col, 0);  // folded over two lines
  EXPECT_EQ(root.Find("h")->raw_col, 0);  // non-ASCII
  EXPECT_EQ(root.Key(0).raw_col, 1);
  DocNode props = ParseOk("a: !!str text\nb: &x text\nc: *x\n");
  EXPECT_EQ(props.Find("a")->raw_col, 0);
  EXPECT_EQ(props.Find("b")->raw_col, 0);
  EXPECT_EQ(props.Find("c")->raw_col, 0);
}

TEST(YamlParseTest, EmptyDocumentIsNull) {
  DocNode root = ParseOk("# only a comment\n");
  EXPECT_TRUE(root.IsNull());
  EXPECT_EQ(root.loc.line, 1);
  EXPECT_TRUE(ParseOk("").IsNull());
}

TEST(YamlParseTest, DuplicateKeysAreErrorsAtTheSecondKey) {
  EXPECT_EQ(ParseErrors("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n"),
            "t.yaml:4:3: duplicate key 'c' (first at 3:3)\n"
            "t.yaml:5:1: duplicate key 'a' (first at 1:1)\n");
}

TEST(YamlParseTest, RefusedEntriesAreLeftOutAndTheRestKept) {
  Diagnostics d;
  std::optional<DocNode> root =
      ParseYaml("t.yaml", "a: 1\nb: 2\na: {x: 3}\n<<: {y: 4}\nc: 5\n", &d);
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(d.errors().size(), 2u);
  ASSERT_EQ(root->MapSize(), 3u);
  EXPECT_EQ(root->Find("a")->scalar, "1");
  EXPECT_EQ(root->Find("c")->scalar, "5");
}

TEST(YamlParseTest, DuplicateKeysInBigMappings) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "k" + std::to_string(i) + ": v\n";
  text += "k7: again\n";
  EXPECT_EQ(ParseErrors(text), "t.yaml:41:1: duplicate key 'k7' (first at 8:1)\n");
}

TEST(YamlParseTest, AliasesCopyTheAnchoredNode) {
  DocNode root = ParseOk("base: &b {x: 1, y: [a, b]}\nother: *b\n");
  const DocNode* other = root.Find("other");
  ASSERT_TRUE(other->IsMap());
  EXPECT_EQ(other->loc.line, 2);
  EXPECT_EQ(other->Find("y")->children.at(1).scalar, "b");
}

TEST(YamlParseTest, RecursiveAliasIsAnError) {
  EXPECT_EQ(FatalErrors("a: &x {b: *x}\n"),
            "t.yaml:1:11: alias '*x' is inside the node it refers to: recursive aliases are not "
            "allowed\n");
}

TEST(YamlParseTest, UnknownAliasIsAnError) {
  EXPECT_EQ(FatalErrors("a: *nope\n"), "t.yaml:1:4: alias '*nope' refers to no anchor\n");
}

TEST(YamlParseTest, BillionLaughsIsStopped) {
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p + ", " + p + ", " + p +
            ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + "]\n";
  }
  std::string errors = FatalErrors(text);
  EXPECT_NE(errors.find("aliases expand to more than 1000000 nodes"), std::string::npos) << errors;
}

TEST(YamlParseTest, MergeKeysAreRejected) {
  EXPECT_EQ(ParseErrors("base: &b {x: 1}\nstep:\n  <<: *b\n  y: 2\n"),
            "t.yaml:3:3: merge keys ('<<') are not supported: write the keys out, or use an alias "
            "(*name) for a whole value\n");
}

TEST(YamlParseTest, QuotedMergeKeyIsAPlainKey) {
  DocNode root = ParseOk("'<<': 1\n");
  EXPECT_EQ(root.Key(0).scalar, "<<");
}

TEST(YamlParseTest, NonScalarKeysAreRejected) {
  EXPECT_EQ(ParseErrors("? [a, b]\n: 1\n"),
            "t.yaml:1:3: a mapping key must be a string, not a sequence\n");
}

TEST(YamlParseTest, SecondDocumentIsRejected) {
  EXPECT_EQ(FatalErrors("a: 1\n---\nb: 2\n"),
            "t.yaml:2:1: a runbook file holds one YAML document; found a second one here\n");
}

TEST(YamlParseTest, TagsAreRejected) {
  EXPECT_EQ(ParseErrors("a: !!int 3\n"),
            "t.yaml:1:4: YAML tags are not supported ('tag:yaml.org,2002:int')\n");
}

TEST(YamlParseTest, SyntaxErrorAtItsMark) {
  EXPECT_EQ(FatalErrors("a: [1, 2\nb: 3\n"),
            "t.yaml:2:2: invalid YAML: end of sequence flow not found (the flow sequence started "
            "at 1:4)\n");
  EXPECT_EQ(FatalErrors("a: b: c\n"), "t.yaml:1:5: invalid YAML: illegal map value\n");
}

TEST(YamlParseTest, TabIndentationGetsAHint) {
  EXPECT_EQ(FatalErrors("a:\n  b: 1\n\tc: 2\n"),
            "t.yaml:3:1: tab character in indentation: YAML indentation must use spaces (the "
            "YAML parser then failed at 3:1: illegal tab when looking for indentation)\n");
}

TEST(YamlParseTest, InvalidUtf8IsAnError) {
  EXPECT_EQ(FatalErrors("a: ok\nb: \"\xff\"\n"),
            "t.yaml:2:5: invalid YAML: invalid leading UTF-8 octet\n");
}

TEST(YamlParseTest, DeepNestingIsRefused) {
  std::string text(5000, '[');
  std::string errors = FatalErrors(text);
  EXPECT_NE(errors.find("nesting deeper than 1000 levels"), std::string::npos) << errors;
}

}  // namespace
}  // namespace runbook
