#include "engine/pg_conninfo.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>

#include "engine/template.h"

namespace runbook {
namespace {

// Stands for the Nth `${{ }}` while libpq parses the template: "\x1aN\x1a". It holds no space,
// quote, backslash, '=', '%' or URI delimiter, so libpq keeps it whole inside a value.
constexpr char kMark = '\x1a';

std::string Placeholder(size_t n) {
  return kMark + std::to_string(n) + kMark;
}

bool IsUri(std::string_view text) {
  return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::string TrimTrailingSpace(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// Replaces every placeholder in `text` with what `piece(n)` returns for it (n < `count`).
template <typename F>
std::string ReplacePlaceholders(std::string_view text, size_t count, F piece) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find(kMark, i);
    size_t close = open == std::string_view::npos ? open : text.find(kMark, open + 1);
    if (close == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    const std::string_view digits = text.substr(open + 1, close - open - 1);
    size_t n = 0;
    bool valid = !digits.empty() && digits.size() < 9;
    for (char c : digits) {
      valid = valid && c >= '0' && c <= '9';
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (valid && n < count) {
      out += piece(n);
      i = close + 1;
    } else {
      out += kMark;  // not one of ours (libpq quoted part of the text): kept as it was
      i = open + 1;
    }
  }
  return out;
}

}  // namespace

Result<Conninfo> ParseConninfo(std::string_view text) {
  using R = Result<Conninfo>;
  const std::string copy(text);
  if (!IsUri(copy) && copy.find('=') == std::string::npos) {
    // libpq reads such a text as a database name; PQconninfoParse would refuse it.
    return Conninfo{{"dbname", copy}};
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(copy.c_str(), &error);
  if (options == nullptr) {
    std::string message = error ? TrimTrailingSpace(error) : "out of memory";
    if (error) PQfreemem(error);
    return R::Error(message);
  }
  Conninfo out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return out;
}

Result<ResolvedConninfo> ResolveConninfo(const Text& tmpl, const TemplateScope& scope) {
  using R = Result<ResolvedConninfo>;
  auto pieces = RenderPieces(tmpl, scope);
  if (!pieces.ok()) return R::Error(pieces.message());
  std::string text;
  for (size_t i = 0; i < pieces->size(); ++i) {
    const TemplatePiece& p = (*pieces)[i];
    if (!p.is_value && p.text.find(kMark) != std::string::npos) {
      return R::Error("a conninfo cannot hold the control character \\x1a");
    }
    text += p.is_value ? Placeholder(i) : p.text;
  }
  auto as_written = [&](size_t n) { return std::string((*pieces)[n].expr); };
  auto parsed = ParseConninfo(text);
  if (!parsed.ok()) {
    return R::Error("conninfo: " +
                    ReplacePlaceholders(parsed.message(), pieces->size(), as_written));
  }
  ResolvedConninfo out;
  Conninfo shown;
  for (const auto& [keyword, value] : *parsed) {
    bool secret = false;
    out.keywords.emplace_back(keyword, ReplacePlaceholders(value, pieces->size(), [&](size_t n) {
                                secret = secret || (*pieces)[n].secret;
                                return (*pieces)[n].text;
                              }));
    shown.emplace_back(keyword, secret ? "***" : out.keywords.back().second);
  }
  out.display = FormatConninfo(shown, /*mask_password=*/true);
  return out;
}

std::string FormatConninfo(const Conninfo& conninfo, bool mask_password) {
  std::string out;
  for (const auto& [keyword, value] : conninfo) {
    if (!out.empty()) out += ' ';
    out += keyword + "=";
    if (mask_password && keyword == "password") {
      out += "***";
      continue;
    }
    const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
      return std::isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '\\';
    });
    if (plain) {
      out += value;
      continue;
    }
    out += '\'';
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

const std::string* FindKeyword(const Conninfo& conninfo, std::string_view keyword) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : conninfo) {
    if (k == keyword) found = &v;
  }
  return found;
}

}  // namespace runbook
