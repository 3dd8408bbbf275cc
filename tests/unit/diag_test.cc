#include "engine/diag.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

TEST(LocationTest, FormatsFileLineColumn) {
  Location loc{InternFileName("a.yaml"), 3, 7};
  EXPECT_EQ(loc.ToString(), "a.yaml:3:7");
  EXPECT_EQ(Diagnostic({loc, "bad"}).ToString(), "a.yaml:3:7: bad");
}

TEST(LocationTest, InternReturnsSamePointer) {
  EXPECT_EQ(InternFileName("x.yaml"), InternFileName("x.yaml"));
  EXPECT_NE(InternFileName("x.yaml"), InternFileName("y.yaml"));
}

TEST(DiagnosticsTest, SortsByLine) {
  Diagnostics d;
  const std::string* f = InternFileName("f.yaml");
  d.Error({f, 9, 1}, "late");
  d.Error({f, 2, 5}, "early");
  d.SortByLocation();
  EXPECT_EQ(d.errors()[0].message, "early");
}

}  // namespace
}  // namespace runbook
