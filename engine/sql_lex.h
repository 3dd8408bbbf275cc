// A small SQL lexer: enough of PostgreSQL's lexical rules to split a script into statements and
// to find `$n` placeholders, skipping string literals ('...', E'...'), quoted identifiers,
// dollar-quoted strings and comments. It never interprets the SQL further.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace runbook {

struct SqlStatement {
  std::string text;   // without the terminating ';', surrounding whitespace trimmed
  size_t offset = 0;  // byte offset of `text` in the script
};

// Splits at top-level semicolons. Statements that hold only whitespace and comments are dropped.
// A BEGIN ... END block of CREATE FUNCTION must be dollar-quoted (as psql also requires for
// splitting on ';'); SQL-standard function bodies (BEGIN ATOMIC) are not supported.
std::vector<SqlStatement> SplitSqlStatements(std::string_view script);

struct Placeholder {
  size_t pos = 0;  // byte offset of '$'
  size_t len = 0;  // length of "$n"
  int number = 0;  // n (1-based)
};

// The `$n` parameter references outside literals and comments, in order of appearance.
std::vector<Placeholder> FindPlaceholders(std::string_view sql);

// 0-based line number and byte column of `offset` in `text` (offset clamped to the end).
struct LineCol {
  int line = 0;
  size_t col = 0;
};
LineCol LineColAt(std::string_view text, size_t offset);

}  // namespace runbook
