#include "engine/reader.h"

#include <charconv>

#include "engine/suggest.h"
#include "engine/units.h"

namespace runbook {
namespace {

// "'x'" for short scalars, so messages quote what was written.
std::string Shown(const DocNode& n) {
  if (!n.IsScalar()) return n.KindName();
  std::string s = n.scalar.size() > 40 ? n.scalar.substr(0, 40) + "..." : n.scalar;
  return (n.quoted ? "the quoted string '" : "'") + s + "'";
}

}  // namespace

void ReportType(const DocNode& n, std::string_view expected, std::string_view what,
                Diagnostics* d) {
  d->Error(n.loc, "expected " + std::string(expected) + " for " + std::string(what) + ", got " +
                      n.KindName());
}

std::optional<std::string> ReadString(const DocNode& n, std::string_view what, Diagnostics* d) {
  if (!n.IsScalar()) {
    ReportType(n, "a string", what, d);
    return std::nullopt;
  }
  return n.scalar;
}

std::optional<Text> ReadText(const DocNode& n, std::string_view what, Diagnostics* d) {
  if (!n.IsScalar()) {
    ReportType(n, "a string", what, d);
    return std::nullopt;
  }
  return Text{n.scalar, n.loc, n.raw_col};
}

std::optional<NameRef> ReadName(const DocNode& n, std::string_view what, Diagnostics* d) {
  if (!n.IsScalar() || n.scalar.empty()) {
    ReportType(n, "a name", what, d);
    return std::nullopt;
  }
  return NameRef{n.scalar, n.loc};
}

std::optional<bool> ReadBool(const DocNode& n, std::string_view what, Diagnostics* d) {
  if (n.IsScalar() && !n.quoted) {
    const std::string& s = n.scalar;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  d->Error(n.loc, "expected true or false for " + std::string(what) + ", got " + Shown(n));
  return std::nullopt;
}

std::optional<size_t> ReadChoice(const DocNode& n, std::string_view what,
                                 const std::vector<std::string>& choices, Diagnostics* d) {
  for (size_t i = 0; n.IsScalar() && i < choices.size(); ++i) {
    if (n.scalar == choices[i]) return i;
  }
  std::string listed;
  for (size_t i = 0; i < choices.size(); ++i) {
    listed += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  }
  d->Error(n.loc, std::string(what) + " must be " + listed + ", got " + Shown(n) +
                      (n.IsScalar() ? DidYouMean(n.scalar, choices) : ""));
  return std::nullopt;
}

std::optional<int64_t> ReadInt(const DocNode& n, std::string_view what, int64_t min, int64_t max,
                               Diagnostics* d) {
  if (n.IsScalar()) {
    const std::string& s = n.scalar;
    int64_t v = 0;
    const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && begin != ptr) {
      if (std::string zero = LeadingZeroProblem(s); !zero.empty()) {
        d->Error(n.loc, std::string(what) + ": " + zero);
        return std::nullopt;
      }
      if (v < min || v > max) {
        d->Error(n.loc, std::string(what) + " must be between " + std::to_string(min) + " and " +
                            std::to_string(max) + ", got " + s);
        return std::nullopt;
      }
      return v;
    }
    if (ec == std::errc::result_out_of_range) {
      d->Error(n.loc, std::string(what) + " is out of range: " + s);
      return std::nullopt;
    }
  }
  d->Error(n.loc, "expected an integer for " + std::string(what) + ", got " + Shown(n));
  return std::nullopt;
}

std::optional<Duration> ReadDuration(const DocNode& n, std::string_view what, Diagnostics* d) {
  if (!n.IsScalar()) {
    ReportType(n, "a duration", what, d);
    return std::nullopt;
  }
  Result<Duration> r = ParseDuration(n.scalar);
  if (!r.ok()) {
    d->Error(n.loc, std::string(what) + ": " + r.message());
    return std::nullopt;
  }
  return r.value();
}

std::optional<std::vector<Text>> ReadTextList(const DocNode& n, std::string_view what,
                                              AllowSingle single, Diagnostics* d) {
  if (n.IsScalar() && single == AllowSingle::kYes) {
    return std::vector<Text>{{n.scalar, n.loc, n.raw_col}};
  }
  if (!n.IsSeq()) {
    ReportType(n, "a list of strings", what, d);
    return std::nullopt;
  }
  std::vector<Text> out;
  out.reserve(n.children.size());
  bool ok = true;
  for (const DocNode& item : n.children) {
    if (!item.IsScalar()) {
      ReportType(item, "a string", "an item of " + std::string(what), d);
      ok = false;
      continue;
    }
    out.push_back({item.scalar, item.loc, item.raw_col});
  }
  if (!ok) return std::nullopt;
  return out;
}

MapReader::MapReader(const DocNode& node, std::string context,
                     const std::vector<std::string>& allowed, Diagnostics* diags)
    : node_(node), context_(std::move(context)), diags_(diags) {
  if (!node.IsMap()) {
    ReportType(node, "a mapping", context_, diags_);
    return;
  }
  ok_ = true;
  for (size_t i = 0; i < node.MapSize(); ++i) {
    const DocNode& key = node.Key(i);
    bool known = false;
    for (const std::string& a : allowed) {
      if (a == key.scalar) {
        known = true;
        break;
      }
    }
    if (known) continue;
    std::optional<std::string> s = Suggest(key.scalar, allowed);
    std::string msg = "unknown key '" + key.scalar + "' in " + context_;
    if (s) {
      msg += " (did you mean '" + *s + "'?)";
    } else {
      msg += "; valid keys: ";
      for (size_t j = 0; j < allowed.size(); ++j) msg += (j ? ", " : "") + allowed[j];
    }
    diags_->Error(key.loc, std::move(msg));
    unknown_.emplace_back(&key, s.value_or(""));
  }
}

const DocNode* MapReader::Get(std::string_view key) const {
  return ok_ ? node_.Find(key) : nullptr;
}

const DocNode* MapReader::GetKey(std::string_view key) const {
  if (!ok_) return nullptr;
  for (size_t i = 0; i < node_.MapSize(); ++i) {
    if (node_.Key(i).scalar == key) return &node_.Key(i);
  }
  return nullptr;
}

const DocNode* MapReader::Require(std::string_view key) const {
  if (!ok_) return nullptr;
  const DocNode* v = node_.Find(key);
  if (!v) {
    diags_->Error(node_.loc, "missing required key '" + std::string(key) + "' in " + context_);
  }
  return v;
}

std::optional<std::string> MapReader::String(std::string_view key) const {
  const DocNode* v = Get(key);
  return v ? ReadString(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<Text> MapReader::GetText(std::string_view key) const {
  const DocNode* v = Get(key);
  return v ? ReadText(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<NameRef> MapReader::Name(std::string_view key) const {
  const DocNode* v = Get(key);
  return v ? ReadName(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<bool> MapReader::Bool(std::string_view key) const {
  const DocNode* v = Get(key);
  return v ? ReadBool(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<int64_t> MapReader::Int(std::string_view key, int64_t min, int64_t max) const {
  const DocNode* v = Get(key);
  return v ? ReadInt(*v, Quoted(key), min, max, diags_) : std::nullopt;
}

std::optional<size_t> MapReader::Choice(std::string_view key,
                                        const std::vector<std::string>& choices) const {
  const DocNode* v = Get(key);
  return v ? ReadChoice(*v, Quoted(key), choices, diags_) : std::nullopt;
}

std::optional<Duration> MapReader::GetDuration(std::string_view key) const {
  const DocNode* v = Get(key);
  return v ? ReadDuration(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<std::vector<Text>> MapReader::TextList(std::string_view key,
                                                     AllowSingle single) const {
  const DocNode* v = Get(key);
  return v ? ReadTextList(*v, Quoted(key), single, diags_) : std::nullopt;
}

std::optional<Text> MapReader::RequireText(std::string_view key) const {
  const DocNode* v = Require(key);
  return v ? ReadText(*v, Quoted(key), diags_) : std::nullopt;
}

std::optional<NameRef> MapReader::RequireName(std::string_view key) const {
  const DocNode* v = Require(key);
  return v ? ReadName(*v, Quoted(key), diags_) : std::nullopt;
}

}  // namespace runbook
