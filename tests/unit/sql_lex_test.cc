#include "engine/sql_lex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runbook {
namespace {

std::vector<std::string> Texts(const std::string& script) {
  std::vector<std::string> out;
  for (const auto& s : SplitSqlStatements(script)) out.push_back(s.text);
  return out;
}

TEST(SplitSqlStatementsTest, SplitsAtTopLevelSemicolons) {
  EXPECT_THAT(Texts("SELECT 1; SELECT 2;\n\nSELECT 3"),
              ::testing::ElementsAre("SELECT 1", "SELECT 2", "SELECT 3"));
}

TEST(SplitSqlStatementsTest, IgnoresSemicolonsInLiteralsCommentsAndDollarQuotes) {
  EXPECT_THAT(
      Texts("SELECT 'a;b', \"c;d\", E'\\';x'; -- x; y\n"
            "DO $body$ BEGIN PERFORM 1; END $body$; /* a; /* nested; */ b; */ SELECT $$;$$"),
      ::testing::ElementsAre("SELECT 'a;b', \"c;d\", E'\\';x'",
                             "-- x; y\nDO $body$ BEGIN PERFORM 1; END $body$",
                             "/* a; /* nested; */ b; */ SELECT $$;$$"));
}

TEST(SplitSqlStatementsTest, DropsEmptyAndCommentOnlyStatements) {
  EXPECT_THAT(Texts(";;  -- only a comment\n; SELECT 1;"), ::testing::ElementsAre("SELECT 1"));
  EXPECT_TRUE(Texts("  \n-- nothing\n").empty());
}

TEST(SplitSqlStatementsTest, OffsetsPointIntoTheScript) {
  const std::string script = "SELECT 1;\n  UPDATE t SET a = 1";
  auto st = SplitSqlStatements(script);
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(script.substr(st[1].offset, 6), "UPDATE");
  EXPECT_EQ(LineColAt(script, st[1].offset).line, 1);
  EXPECT_EQ(LineColAt(script, st[1].offset).col, 2u);
}

TEST(FindPlaceholdersTest, FindsParametersOutsideLiterals) {
  const std::string sql = "SELECT $1, '$2', $$ $3 $$, a$4, $12 -- $5\n";
  auto ph = FindPlaceholders(sql);
  ASSERT_EQ(ph.size(), 2u);
  EXPECT_EQ(ph[0].number, 1);
  EXPECT_EQ(ph[1].number, 12);
  EXPECT_EQ(sql.substr(ph[1].pos, ph[1].len), "$12");
}

TEST(FindPlaceholdersTest, UnterminatedLiteralSwallowsTheRest) {
  EXPECT_TRUE(FindPlaceholders("SELECT 'oops $1").empty());
}

}  // namespace
}  // namespace runbook
