#include "engine/params.h"

#include <charconv>
#include <cmath>

#include "engine/suggest.h"
#include "engine/units.h"

namespace runbook {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// Consumes one or more digits at `*pos`.
bool Digits(std::string_view s, size_t* pos) {
  const size_t start = *pos;
  while (*pos < s.size() && IsDigit(s[*pos])) ++*pos;
  return *pos > start;
}

bool IsNumber(std::string_view s) {
  size_t pos = 0;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) ++pos;
  const bool int_part = Digits(s, &pos);
  bool frac_part = false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    frac_part = Digits(s, &pos);
  }
  if (!int_part && !frac_part) return false;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) ++pos;
    if (!Digits(s, &pos)) return false;
  }
  return pos == s.size();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

const std::vector<std::string>& ParamTypeNames() {
  static const std::vector<std::string> kNames = {"string",  "integer", "number",
                                                  "boolean", "path",    "duration"};
  return kNames;
}

const char* ParamTypeName(ParamType type) {
  return ParamTypeNames()[static_cast<size_t>(type)].c_str();
}

std::optional<ParamType> ParamTypeFromName(std::string_view name) {
  const auto& names = ParamTypeNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<ParamType>(i);
  }
  return std::nullopt;
}

std::string DescribeParamType(ParamType type) {
  switch (type) {
    case ParamType::kString:
      return "a string";
    case ParamType::kInteger:
      return "an integer";
    case ParamType::kNumber:
      return "a number";
    case ParamType::kBoolean:
      return "a boolean (true or false)";
    case ParamType::kPath:
      return "a path";
    case ParamType::kDuration:
      return "a duration (e.g. 90s, 5m, 2h)";
  }
  return "?";
}

std::string DescribeMisfit(ParamType type, std::string_view value) {
  std::string zero = type == ParamType::kInteger ? LeadingZeroProblem(value) : "";
  return DescribeParamType(type) + (zero.empty() ? "" : "; " + zero);
}

std::optional<std::string> CanonicalParamValue(ParamType type, std::string_view value) {
  switch (type) {
    case ParamType::kString:
      return std::string(value);
    case ParamType::kPath:
      if (value.empty()) return std::nullopt;
      return std::string(value);
    case ParamType::kInteger: {
      std::string_view digits = value;
      if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
          !LeadingZeroProblem(value).empty()) {
        return std::nullopt;
      }
      return std::to_string(v);
    }
    case ParamType::kNumber:
      if (!IsNumber(value)) return std::nullopt;
      return std::string(value);
    case ParamType::kBoolean: {
      const std::string lower = Lower(value);
      if (lower == "true" || lower == "false") return lower;
      return std::nullopt;
    }
    case ParamType::kDuration:
      if (!ParseDuration(value).ok()) return std::nullopt;
      return std::string(value);
  }
  return std::nullopt;
}

nlohmann::json ParamJson(ParamType type, const std::string& canonical) {
  switch (type) {
    case ParamType::kInteger:
    case ParamType::kNumber: {
      // JSON's own reading keeps an integer an integer; spellings JSON lacks ("+1", ".5", "1.")
      // are read as a double.
      nlohmann::json number = nlohmann::json::parse(canonical, nullptr, /*allow_exceptions=*/false);
      if (number.is_number()) return number;
      std::string_view text = canonical;
      if (!text.empty() && text[0] == '+') text.remove_prefix(1);
      double d = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec == std::errc() && ptr == text.data() + text.size() && std::isfinite(d)) return d;
      return canonical;
    }
    case ParamType::kBoolean:
      return canonical == "true";
    case ParamType::kString:
    case ParamType::kPath:
    case ParamType::kDuration:
      break;
  }
  return canonical;
}

std::string ParamText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

ParamValues ResolveParams(const Runbook& runbook, const std::vector<Inventory>& inventories,
                          const std::vector<std::pair<std::string, std::string>>& sets,
                          RequireParams require, Diagnostics* diags) {
  ParamValues values;
  for (const Param& p : runbook.params) {
    if (p.default_value) values[p.name] = *p.default_value;
  }
  for (const Inventory& inv : inventories) {
    for (const auto& [name, value] : inv.params) {
      const Param* p = runbook.FindParam(name.name);
      if (!p) continue;
      std::optional<std::string> v = CanonicalParamValue(p->type, value);
      if (!v) {
        diags->Error(name.loc, "value '" + value + "' does not fit: param '" + p->name + "' is " +
                                   DescribeMisfit(p->type, value));
        continue;
      }
      values[p->name] = std::move(*v);
    }
  }
  const Location set_loc{"--set", 0, 0};
  std::vector<std::string> names;
  names.reserve(runbook.params.size());
  for (const Param& p : runbook.params) names.push_back(p.name);
  for (const auto& [name, value] : sets) {
    const std::string prefix = "--set " + name + "=" + value + ": ";
    const Param* p = runbook.FindParam(name);
    if (!p) {
      diags->Error(set_loc, prefix + "unknown param '" + name + "'" + DidYouMean(name, names));
      continue;
    }
    std::optional<std::string> v = CanonicalParamValue(p->type, value);
    if (!v) {
      diags->Error(set_loc,
                   prefix + "param '" + p->name + "' is " + DescribeMisfit(p->type, value));
      continue;
    }
    values[p->name] = std::move(*v);
  }
  if (require == RequireParams::kYes) {
    for (const Param& p : runbook.params) {
      if (!values.count(p.name)) {
        diags->Error(p.loc, "param '" + p.name + "' is required: set it with --set " + p.name +
                                "=VALUE or in an inventory");
      }
    }
  }
  return values;
}

void ApplyParamDurations(const ParamValues& values, Runbook* runbook, Diagnostics* diags) {
  std::vector<std::string> names;
  for (const Param& p : runbook->params) names.push_back(p.name);
  for (auto* list : {&runbook->steps, &runbook->finally}) {
    for (Step& step : *list) {
      for (auto* guards : {&step.guards, &step.done_when, &step.verify}) {
        for (Guard& g : *guards) {
          if (!g.wait_param) continue;
          const NameRef& ref = *g.wait_param;
          const Param* p = runbook->FindParam(ref.name);
          if (!p) {
            diags->Error(ref.loc, "unknown param '" + ref.name + "'" + DidYouMean(ref.name, names));
            continue;
          }
          if (p->type != ParamType::kDuration) {
            diags->Error(ref.loc, "'wait' needs a duration, and param '" + p->name + "' is " +
                                      DescribeParamType(p->type));
            continue;
          }
          auto v = values.find(p->name);
          if (v == values.end()) continue;
          Result<Duration> d = ParseDuration(v->second);
          if (d.ok()) g.wait = d.value();  // values were checked against the type already
        }
      }
    }
  }
}

}  // namespace runbook
