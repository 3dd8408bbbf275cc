// Shell quoting: turning arbitrary text into one literal string for /bin/sh (POSIX sh, dash).
//
// Two tools. ShellQuote quotes a whole word, for building command lines from argv-like parts.
// ShellSplicer quotes a value spliced into the *middle* of a script the user wrote, e.g.
//   pg_dump --file "$WORKDIR/${{ params.name }}.sql"
// where the value lands inside a double-quoted string: it follows the shell's lexical state of the
// text written so far (outside quotes, '...', "...", $(...), `...`, comments, here-documents) and
// escapes the value for exactly that context, so the value is always one literal piece of text
// and never code, whatever characters it holds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"

namespace runbook {

// Returns `word` as one shell word: unchanged when it is non-empty and made only of characters
// that are never special ([A-Za-z0-9_@%+:,./-]), else single-quoted with each ' written as '\''.
std::string ShellQuote(std::string_view word);

// Builds a script from literal text (as the user wrote it) and values (quoted for the context).
class ShellSplicer {
 public:
  ShellSplicer();

  // Appends script text as written; it may change the lexical state (open a quote, ...).
  void AppendLiteral(std::string_view text);

  // Returns `value` escaped so that, placed at the current end of the script, the shell reads it
  // as exactly the characters of `value` and the lexical state after it is the one before it.
  // Errors when no escaping can do that: a newline inside a comment, a value that holds the
  // terminating line of the here-document it lands in.
  Result<std::string> Quote(std::string_view value) const;

  // Quote, then AppendLiteral of the quoted text. Returns the quoted text.
  Result<std::string> AppendValue(std::string_view value);

  const std::string& script() const { return script_; }

 private:
  enum class Frame { kTop, kParen, kCmdSubst, kBacktick, kDouble, kSingle };
  struct Heredoc {
    std::string delimiter;
    bool expand = true;       // unquoted delimiter: $, ` and \ are special in the body
    bool strip_tabs = false;  // <<-
  };
  enum class Mode { kCode, kComment, kHeredocOp, kHeredocWord, kHeredocBody };

  bool InCodeFrame() const;
  void Feed(char c);
  void FeedUnescaped(char c);
  void StartNextHeredocOrCode();

  std::string script_;
  std::vector<Frame> frames_;
  Mode mode_ = Mode::kCode;
  bool escaped_ = false;  // the previous character was an unquoted/double-quoted backslash
  bool backtick_backslash_ = false;  // a backslash inside `...`, not yet known to be removed
  bool word_start_ = true;           // a '#' here starts a comment
  char prev_ = 0;                    // previous character in code mode (for "$(" and "<<")
  // Here-documents: the one whose operator is being read, those waiting for the end of the
  // line, and the body being read with its current line.
  Heredoc reading_;
  bool word_started_ = false;  // past "<<" and "-": a '-' now belongs to the delimiter
  char word_quote_ = 0;        // inside a quote of the delimiter word
  bool word_escape_ = false;
  std::vector<Heredoc> pending_;
  Heredoc body_;
  std::string body_line_;
};

}  // namespace runbook
