#include "engine/sql_lex.h"

#include <cctype>

namespace runbook {
namespace {

bool IsIdentChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}

bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// If s[i] starts a comment, a string literal, a quoted identifier or a dollar-quoted string,
// returns the index just past it (the end of `s` when unterminated); otherwise returns i.
size_t SkipQuoted(std::string_view s, size_t i) {
  const size_t n = s.size();
  const char c = s[i];
  if (c == '-' && i + 1 < n && s[i + 1] == '-') {
    const size_t nl = s.find('\n', i);
    return nl == std::string_view::npos ? n : nl + 1;
  }
  if (c == '/' && i + 1 < n && s[i + 1] == '*') {  // comments nest in PostgreSQL
    int depth = 0;
    size_t j = i;
    while (j < n) {
      if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
        ++depth;
        j += 2;
      } else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
        j += 2;
        if (--depth == 0) return j;
      } else {
        ++j;
      }
    }
    return n;
  }
  if (c == '\'') {
    // E'...' strings take backslash escapes; standard strings only double the quote.
    const bool escapes =
        i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && !(i > 1 && IsIdentChar(s[i - 2]));
    size_t j = i + 1;
    while (j < n) {
      if (escapes && s[j] == '\\') {
        j += 2;
      } else if (s[j] == '\'') {
        if (j + 1 < n && s[j + 1] == '\'') {
          j += 2;
        } else {
          return j + 1;
        }
      } else {
        ++j;
      }
    }
    return n;
  }
  if (c == '"') {
    size_t j = i + 1;
    while (j < n) {
      if (s[j] == '"') {
        if (j + 1 < n && s[j + 1] == '"') {
          j += 2;
        } else {
          return j + 1;
        }
      } else {
        ++j;
      }
    }
    return n;
  }
  if (c == '$') {
    if (i > 0 && IsIdentChar(s[i - 1])) return i;  // part of an identifier like a$b
    if (i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1]))) return i;  // $1
    size_t j = i + 1;
    while (j < n && IsIdentChar(s[j])) ++j;
    if (j >= n || s[j] != '$') return i;
    const std::string_view tag = s.substr(i, j - i + 1);
    const size_t end = s.find(tag, j + 1);
    return end == std::string_view::npos ? n : end + tag.size();
  }
  return i;
}

bool IsComment(std::string_view s, size_t i) {
  return i + 1 < s.size() && ((s[i] == '-' && s[i + 1] == '-') || (s[i] == '/' && s[i + 1] == '*'));
}

}  // namespace

std::vector<SqlStatement> SplitSqlStatements(std::string_view script) {
  std::vector<SqlStatement> out;
  size_t start = 0;
  bool has_code = false;
  auto flush = [&](size_t end) {
    if (has_code) {
      size_t b = start;
      size_t e = end;
      while (b < e && IsSpace(script[b])) ++b;
      while (e > b && IsSpace(script[e - 1])) --e;
      out.push_back({std::string(script.substr(b, e - b)), b});
    }
    has_code = false;
  };
  size_t i = 0;
  while (i < script.size()) {
    const size_t j = SkipQuoted(script, i);
    if (j != i) {
      if (!IsComment(script, i)) has_code = true;
      i = j;
      continue;
    }
    if (script[i] == ';') {
      flush(i);
      start = i + 1;
    } else if (!IsSpace(script[i])) {
      has_code = true;
    }
    ++i;
  }
  flush(script.size());
  return out;
}

std::vector<Placeholder> FindPlaceholders(std::string_view sql) {
  std::vector<Placeholder> out;
  size_t i = 0;
  while (i < sql.size()) {
    const size_t j = SkipQuoted(sql, i);
    if (j != i) {
      i = j;
      continue;
    }
    if (sql[i] == '$' && !(i > 0 && IsIdentChar(sql[i - 1]))) {
      size_t k = i + 1;
      int number = 0;
      while (k < sql.size() && std::isdigit(static_cast<unsigned char>(sql[k])) &&
             number < 100000) {
        number = number * 10 + (sql[k] - '0');
        ++k;
      }
      if (k > i + 1) {
        out.push_back({i, k - i, number});
        i = k;
        continue;
      }
    }
    ++i;
  }
  return out;
}

LineCol LineColAt(std::string_view text, size_t offset) {
  if (offset > text.size()) offset = text.size();
  LineCol lc;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      line_start = i + 1;
    }
  }
  lc.col = offset - line_start;
  return lc;
}

}  // namespace runbook
