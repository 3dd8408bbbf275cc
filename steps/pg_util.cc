#include "steps/pg_util.h"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace runbook {

std::string OneLine(std::string_view text, size_t max) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out = out.substr(0, cut) + "...";
  }
  return out;
}

std::string FormatSeconds(double seconds) {
  char buf[64];
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 120) {
    std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  } else {
    const auto total = static_cast<long long>(std::llround(seconds));
    if (total % 60 == 0) {
      std::snprintf(buf, sizeof buf, "%lld min", total / 60);
    } else {
      std::snprintf(buf, sizeof buf, "%lld min %lld s", total / 60, total % 60);
    }
  }
  return buf;
}

std::string FormatBytes(int64_t bytes) {
  static const char* const kUnits[] = {"kB", "MB", "GB", "TB"};
  if (bytes < 1000) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1000 && unit < 3) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

Result<double> ParseDurationSeconds(std::string_view text) {
  const std::string original(text);
  auto bad = [&] {
    return Result<double>::Error("invalid duration '" + original +
                                 "' (expected e.g. 90s, 5m, 2h, 1d, 500ms)");
  };
  double total = 0;
  size_t i = 0;
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) {
      ++j;
    }
    if (j == i) return bad();
    const double number = std::atof(std::string(text.substr(i, j - i)).c_str());
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string_view unit = text.substr(j, k - j);
    double scale;
    if (unit.empty() || unit == "s") {
      if (unit.empty() && k != text.size()) return bad();
      scale = 1;
    } else if (unit == "ms") {
      scale = 0.001;
    } else if (unit == "m" || unit == "min") {
      scale = 60;
    } else if (unit == "h") {
      scale = 3600;
    } else if (unit == "d") {
      scale = 86400;
    } else {
      return bad();
    }
    total += number * scale;
    i = k;
  }
  return total;
}

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<PgResult> ExecReadOnly(PgConnection& conn, std::string_view sql,
                              const std::vector<std::string>& params) {
  if (auto begin = conn.Exec("BEGIN READ ONLY"); !begin.ok()) return begin;
  Result<PgResult> r = conn.ExecOne(sql, params);
  (void)conn.Exec("ROLLBACK");
  return r;
}

}  // namespace runbook
