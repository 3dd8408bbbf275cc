#include "engine/suggest.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

TEST(EditDistanceTest, CountsEditsAndTranspositions) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("needs", "nedds"), 1u);
  EXPECT_EQ(EditDistance("needs", "needs"), 0u);
  EXPECT_EQ(EditDistance("needs", "nede"), 2u);
  EXPECT_EQ(EditDistance("timeout", "tiemout"), 1u);  // one transposition
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(SuggestTest, SuggestsCloseCandidates) {
  const std::vector<std::string> keys = {"id", "needs", "run", "sql", "timeout", "copy_rows"};
  EXPECT_EQ(Suggest("nedds", keys), "needs");
  EXPECT_EQ(Suggest("rum", keys), "run");
  EXPECT_EQ(Suggest("tiemout", keys), "timeout");
  EXPECT_EQ(Suggest("copy_row", keys), "copy_rows");
  EXPECT_EQ(Suggest("ID", keys), std::nullopt);  // two edits in a 2-letter word is not a typo
  EXPECT_EQ(Suggest("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(Suggest("needs", keys), std::nullopt);  // equal is no suggestion
}

TEST(SuggestTest, PrefersTheClosestThenTheFirst) {
  EXPECT_EQ(Suggest("sqk", {"sql", "sqa"}), "sql");
  EXPECT_EQ(Suggest("abcd", {"abxx", "abcx"}), "abcx");
}

TEST(SuggestTest, UnambiguousAbbreviations) {
  const std::vector<std::string> types = {"string", "integer", "number", "boolean", "path"};
  EXPECT_EQ(Suggest("int", types), "integer");
  EXPECT_EQ(Suggest("bool", types), "boolean");
  EXPECT_EQ(Suggest("str", types), "string");
  EXPECT_EQ(Suggest("in", types), std::nullopt);  // too short to be sure
  EXPECT_EQ(Suggest("pa", {"path", "params"}), std::nullopt);
  EXPECT_EQ(Suggest("par", {"params", "parent"}), std::nullopt);  // ambiguous
}

TEST(SuggestTest, DidYouMeanFormatsOrIsEmpty) {
  EXPECT_EQ(DidYouMean("nedds", {"needs"}), " (did you mean 'needs'?)");
  EXPECT_EQ(DidYouMean("qqqqq", {"needs"}), "");
}

}  // namespace
}  // namespace runbook
