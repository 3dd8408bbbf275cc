#include "engine/diag.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

TEST(LocationTest, FormatsFileLineColumn) {
  Location loc{"a.yaml", 3, 7};
  EXPECT_EQ(loc.ToString(), "a.yaml:3:7");
  EXPECT_EQ(Diagnostic({loc, "bad"}).ToString(), "a.yaml:3:7: bad");
}

TEST(LocationTest, UnknownParts) {
  EXPECT_EQ(Location{}.ToString(), "<unknown>");
  EXPECT_EQ((Location{"a.yaml", 0, 0}.ToString()), "a.yaml");
  EXPECT_EQ((Location{"a.yaml", 4, 0}.ToString()), "a.yaml:4");
}

TEST(DiagnosticsTest, SortsByLine) {
  Diagnostics d;
  const std::string f = "f.yaml";
  d.Error({f, 9, 1}, "late");
  d.Error({f, 2, 5}, "early");
  d.SortByLocation();
  EXPECT_EQ(d.errors()[0].message, "early");
}

}  // namespace
}  // namespace runbook
