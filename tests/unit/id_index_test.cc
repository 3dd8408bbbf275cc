#include "engine/id_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace runbook {
namespace {

TEST(IdIndexTest, FirstInsertWinsAndFindsEveryName) {
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) names.push_back("step-" + std::to_string(i));
  IdIndex index;  // no size given: grows
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(index.Insert(names[i], i), -1);
  EXPECT_EQ(index.Insert(names[42], 7), 42);  // already there: the first value stays
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(index.Find(names[i]), i);
  EXPECT_EQ(index.Find("step-42"), 42);  // by content, not by address
  EXPECT_EQ(index.Find("step-5000"), -1);
  EXPECT_EQ(index.Find(""), -1);
}

}  // namespace
}  // namespace runbook
