#include "engine/units.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <limits>

namespace runbook {
namespace {

struct Unit {
  std::string_view name;
  int64_t factor;
};

// In the order they must appear in a duration (index = rank).
constexpr std::array<Unit, 5> kDurationUnits = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

std::string DurationError(std::string_view text, std::string_view why) {
  std::string m = "'" + std::string(text) + "' is not a duration";
  if (!why.empty()) m += " (" + std::string(why) + ")";
  return m + ": use e.g. 500ms, 90s, 5m, 2h, 1h30m, 1d";
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return Result<Duration>::Error("empty duration: use e.g. 500ms, 90s, 5m, 2h");
  int64_t total = 0;
  size_t pos = 0;
  int last_rank = -1;
  while (pos < text.size()) {
    if (!IsDigit(text[pos])) {
      return Result<Duration>::Error(
          DurationError(text, text[pos] == '-' ? "negative" : std::string_view()));
    }
    int64_t n = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[pos] - '0', &n)) {
        return Result<Duration>::Error(DurationError(text, "too large"));
      }
      ++pos;
    }
    size_t end = pos;
    while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
    const std::string_view unit = text.substr(pos, end - pos);
    if (unit.empty()) {
      return Result<Duration>::Error(DurationError(text, end == text.size() ? "no unit" : ""));
    }
    int rank = -1;
    for (size_t i = 0; i < kDurationUnits.size(); ++i) {
      if (kDurationUnits[i].name == unit) rank = static_cast<int>(i);
    }
    if (rank < 0) {
      return Result<Duration>::Error(
          DurationError(text, "unknown unit '" + std::string(unit) + "'"));
    }
    if (rank <= last_rank) {
      return Result<Duration>::Error(DurationError(text, "units must go from largest to smallest"));
    }
    last_rank = rank;
    int64_t part;
    if (__builtin_mul_overflow(n, kDurationUnits[rank].factor, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return Result<Duration>::Error(DurationError(text, "too large"));
    }
    pos = end;
  }
  return Duration(total);
}

std::string FormatElapsed(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  }
  return buf;
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  for (const Unit& u : kDurationUnits) {
    const int64_t n = ms / u.factor;
    if (n > 0) {
      out += std::to_string(n);
      out += u.name;
      ms -= n * u.factor;
    }
  }
  return out;
}

Result<uint64_t> ParseSize(std::string_view text) {
  static constexpr struct {
    std::string_view name;
    uint64_t factor;
  } kUnits[] = {
      {"", 1},
      {"B", 1},
      {"kB", 1'000},
      {"KB", 1'000},
      {"MB", 1'000'000},
      {"GB", 1'000'000'000},
      {"TB", 1'000'000'000'000},
      {"KiB", 1ULL << 10},
      {"MiB", 1ULL << 20},
      {"GiB", 1ULL << 30},
      {"TiB", 1ULL << 40},
  };
  auto error = [&](std::string_view why) {
    std::string m = "'" + std::string(text) + "' is not a size";
    if (!why.empty()) m += " (" + std::string(why) + ")";
    return Result<uint64_t>::Error(m + ": use e.g. 123, 512KiB, 1MB, 10GB");
  };
  size_t pos = 0;
  uint64_t n = 0;
  while (pos < text.size() && IsDigit(text[pos])) {
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, text[pos] - '0', &n)) {
      return error("too large");
    }
    ++pos;
  }
  if (pos == 0) return error(text.empty() ? "empty" : "");
  const std::string_view unit = text.substr(pos);
  for (const auto& u : kUnits) {
    if (u.name == unit) {
      uint64_t bytes;
      if (__builtin_mul_overflow(n, u.factor, &bytes)) return error("too large");
      return bytes;
    }
  }
  return error("unknown unit '" + std::string(unit) + "'");
}

std::string LeadingZeroProblem(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  if (digits.size() < 2 || digits[0] != '0') return "";
  std::string_view significant = digits.substr(
      digits.find_first_not_of('0') == std::string_view::npos ? digits.size() - 1
                                                              : digits.find_first_not_of('0'));
  std::string octal;
  if (digits.find_first_of("89") == std::string_view::npos) {
    uint64_t v = 0;
    for (char c : digits) v = v * 8 + static_cast<uint64_t>(c - '0');
    octal = "octal " + std::to_string(v) + " to YAML 1.1, ";
  }
  return std::string(text) + " has a leading zero, which YAML readers take differently (" + octal +
         std::string(significant) + " to YAML 1.2): write " + (text[0] == '-' ? "-" : "") +
         std::string(significant);
}

}  // namespace runbook
