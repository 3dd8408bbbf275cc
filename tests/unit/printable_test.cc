#include "engine/printable.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

TEST(PrintableTest, PrintableTextIsUnchanged) {
  EXPECT_EQ(Printable("SELECT 1;\tcomment\nnext line"), "SELECT 1;\tcomment\nnext line");
  EXPECT_EQ(Printable("naïve – ✓ 日本"), "naïve – ✓ 日本");
  EXPECT_EQ(Printable("a\\x1b stays"), "a\\x1b stays");
}

TEST(PrintableTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(Printable("SELECT 1 /* \x1b[2J */"), "SELECT 1 /* \\x1b[2J */");
  EXPECT_EQ(Printable("over\rwrite\x07\x7f"), "over\\x0dwrite\\x07\\x7f");
  EXPECT_EQ(Printable(std::string("nul\0!", 5)), "nul\\x00!");
  // C1 controls (CSI as U+009B) and bytes that are not UTF-8 (a lone 0x9b is CSI on some
  // terminals).
  EXPECT_EQ(Printable("\xc2\x9b"
                      "2J"),
            "\\u009b2J");
  EXPECT_EQ(Printable("\x9b"
                      "2J \xff"),
            "\\x9b2J \\xff");
  EXPECT_EQ(Printable("\xe2\x82"), "\\xe2\\x82");  // cut off
}

}  // namespace
}  // namespace runbook
