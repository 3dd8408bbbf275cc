#include "engine/units.h"

#include <gtest/gtest.h>

namespace runbook {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Duration Dur(const char* s) {
  Result<Duration> r = ParseDuration(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.message();
  return r.ok() ? r.value() : Duration(-1);
}

std::string DurError(const char* s) {
  Result<Duration> r = ParseDuration(s);
  EXPECT_FALSE(r.ok()) << s;
  return r.message();
}

TEST(DurationTest, ParsesUnitsAndCombinations) {
  EXPECT_EQ(Dur("500ms"), milliseconds(500));
  EXPECT_EQ(Dur("90s"), seconds(90));
  EXPECT_EQ(Dur("5m"), minutes(5));
  EXPECT_EQ(Dur("2h"), hours(2));
  EXPECT_EQ(Dur("1h30m"), minutes(90));
  EXPECT_EQ(Dur("1d"), hours(24));
  EXPECT_EQ(Dur("0s"), Duration(0));
  EXPECT_EQ(Dur("1m30s250ms"), milliseconds(90250));
}

TEST(DurationTest, RejectsWhatIsNotADuration) {
  EXPECT_EQ(DurError("5 minutes"),
            "'5 minutes' is not a duration: use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError("-1s"),
            "'-1s' is not a duration (negative): use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError("30"),
            "'30' is not a duration (no unit): use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError(""), "empty duration: use e.g. 500ms, 90s, 5m, 2h");
  EXPECT_EQ(DurError("5w"),
            "'5w' is not a duration (unknown unit 'w'): use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError("30m1h"),
            "'30m1h' is not a duration (units must go from largest to smallest): use e.g. 500ms, "
            "90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError("1.5h"), "'1.5h' is not a duration: use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d");
  EXPECT_EQ(DurError("99999999999999999999s"),
            "'99999999999999999999s' is not a duration (too large): use e.g. 500ms, 90s, 5m, 2h, "
            "1h30m, 1d");
  EXPECT_EQ(DurError("9999999999999999d"),
            "'9999999999999999d' is not a duration (too large): use e.g. 500ms, 90s, 5m, 2h, "
            "1h30m, 1d");
}

TEST(DurationTest, FormatsCanonically) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(hours(36)), "1d12h");
  for (const char* s : {"1h30m", "500ms", "1d", "2d3h4m5s6ms"}) {
    EXPECT_EQ(FormatDuration(Dur(s)), s);
  }
}

uint64_t Size(const char* s) {
  Result<uint64_t> r = ParseSize(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.message();
  return r.ok() ? r.value() : 0;
}

TEST(SizeTest, DecimalAndBinaryUnits) {
  EXPECT_EQ(Size("123"), 123u);
  EXPECT_EQ(Size("123B"), 123u);
  EXPECT_EQ(Size("1kB"), 1000u);
  EXPECT_EQ(Size("1KB"), 1000u);
  EXPECT_EQ(Size("1MB"), 1000000u);
  EXPECT_EQ(Size("10GB"), 10000000000u);
  EXPECT_EQ(Size("2TB"), 2000000000000u);
  EXPECT_EQ(Size("512KiB"), 524288u);
  EXPECT_EQ(Size("1MiB"), 1048576u);
  EXPECT_EQ(Size("1GiB"), 1073741824u);
  EXPECT_EQ(Size("1TiB"), 1099511627776u);
}

TEST(SizeTest, RejectsWhatIsNotASize) {
  EXPECT_EQ(ParseSize("1 MB").message(),
            "'1 MB' is not a size (unknown unit ' MB'): use e.g. 123, 512KiB, 1MB, 10GB");
  EXPECT_EQ(ParseSize("MB").message(), "'MB' is not a size: use e.g. 123, 512KiB, 1MB, 10GB");
  EXPECT_EQ(ParseSize("").message(), "'' is not a size (empty): use e.g. 123, 512KiB, 1MB, 10GB");
  EXPECT_EQ(ParseSize("1mb").message(),
            "'1mb' is not a size (unknown unit 'mb'): use e.g. 123, 512KiB, 1MB, 10GB");
  EXPECT_EQ(ParseSize("-1").message(), "'-1' is not a size: use e.g. 123, 512KiB, 1MB, 10GB");
  EXPECT_EQ(ParseSize("20000000TiB").message(),
            "'20000000TiB' is not a size (too large): use e.g. 123, 512KiB, 1MB, 10GB");
}

TEST(IntegerTest, LeadingZeros) {
  EXPECT_EQ(LeadingZeroProblem("0"), "");
  EXPECT_EQ(LeadingZeroProblem("10"), "");
  EXPECT_EQ(LeadingZeroProblem("+7"), "");
  EXPECT_EQ(LeadingZeroProblem("0022"),
            "0022 has a leading zero, which YAML readers take "
            "differently (octal 18 to YAML 1.1, 22 to YAML 1.2): "
            "write 22");
  // Not octal to anyone: still refused, since the writer may have meant something else.
  EXPECT_EQ(LeadingZeroProblem("09"),
            "09 has a leading zero, which YAML readers take differently (9 to YAML 1.2): write 9");
  EXPECT_EQ(LeadingZeroProblem("00"),
            "00 has a leading zero, which YAML readers take differently (octal 0 to YAML 1.1, 0 "
            "to YAML 1.2): write 0");
}

}  // namespace
}  // namespace runbook
