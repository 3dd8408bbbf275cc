#include "engine/shell_quote.h"

#include <algorithm>

namespace runbook {

namespace {

bool IsSafeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_@%+:,./-").find(c) != std::string_view::npos;
}

// Prefixes each of `specials` in `s` with a backslash.
std::string BackslashEscape(std::string_view s, std::string_view specials) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (specials.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Inside '...': close the quote, write an escaped quote, reopen.
std::string EscapeForSingleQuotes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsWordBreak(char c) {
  return std::string_view(" \t\n;&|()<>").find(c) != std::string_view::npos;
}

}  // namespace

std::string ShellQuote(std::string_view word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), IsSafeChar)) return std::string(word);
  return "'" + EscapeForSingleQuotes(word) + "'";
}

ShellSplicer::ShellSplicer() {
  frames_.push_back(Frame::kTop);
}

bool ShellSplicer::InCodeFrame() const {
  Frame f = frames_.back();
  return f == Frame::kTop || f == Frame::kParen || f == Frame::kCmdSubst || f == Frame::kBacktick;
}

void ShellSplicer::AppendLiteral(std::string_view text) {
  script_.append(text);
  for (char c : text) Feed(c);
}

Result<std::string> ShellSplicer::AppendValue(std::string_view value) {
  Result<std::string> quoted = Quote(value);
  if (quoted.ok()) AppendLiteral(*quoted);
  return quoted;
}

void ShellSplicer::StartNextHeredocOrCode() {
  body_line_.clear();
  if (!pending_.empty()) {
    body_ = pending_.front();
    pending_.erase(pending_.begin());
    mode_ = Mode::kHeredocBody;
  } else {
    mode_ = Mode::kCode;
    word_start_ = true;
    prev_ = 0;
  }
}

void ShellSplicer::Feed(char c) {
  // Inside `...` the shell first removes the backslash of \$, \`, \\ (and \" when the backticks
  // are inside "...") and then parses the result: lex that result.
  if (mode_ == Mode::kCode && backtick_backslash_) {
    backtick_backslash_ = false;
    auto bt = std::find(frames_.rbegin(), frames_.rend(), Frame::kBacktick);
    bool in_double = bt + 1 != frames_.rend() && *(bt + 1) == Frame::kDouble;
    if (c == '$' || c == '`' || c == '\\' || (c == '"' && in_double)) {
      FeedUnescaped(c);
      return;
    }
    FeedUnescaped('\\');
  } else if (mode_ == Mode::kCode && c == '\\' &&
             std::find(frames_.begin(), frames_.end(), Frame::kBacktick) != frames_.end()) {
    backtick_backslash_ = true;
    return;
  }
  FeedUnescaped(c);
}

void ShellSplicer::FeedUnescaped(char c) {
  switch (mode_) {
    case Mode::kComment:
      if (c != '\n') return;
      mode_ = Mode::kCode;
      break;  // the newline ends the command line too: handled as code below
    case Mode::kHeredocOp:
      if (c == '<') {  // "<<<", a bash here-string, not a here-document
        mode_ = Mode::kCode;
        return;
      }
      if (c == '-' && !reading_.strip_tabs && !word_started_) {
        reading_.strip_tabs = true;
        return;
      }
      if (c == ' ' || c == '\t') {
        word_started_ = true;
        return;
      }
      mode_ = Mode::kHeredocWord;
      word_quote_ = 0;
      word_escape_ = false;
      [[fallthrough]];
    case Mode::kHeredocWord:
      word_started_ = true;
      if (word_escape_) {
        word_escape_ = false;
        reading_.delimiter += c;
        return;
      }
      if (word_quote_ != 0) {
        if (c == word_quote_) {
          word_quote_ = 0;
        } else {
          reading_.delimiter += c;
        }
        return;
      }
      if (c == '\\') {
        word_escape_ = true;
        reading_.expand = false;
        return;
      }
      if (c == '\'' || c == '"') {
        word_quote_ = c;
        reading_.expand = false;
        return;
      }
      if (!IsWordBreak(c)) {
        reading_.delimiter += c;
        return;
      }
      if (!reading_.delimiter.empty()) pending_.push_back(reading_);
      mode_ = Mode::kCode;
      break;  // the character that ended the word is code
    case Mode::kHeredocBody:
      if (c != '\n') {
        body_line_ += c;
        return;
      }
      {
        std::string_view line = body_line_;
        if (body_.strip_tabs)
          line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
        if (line == body_.delimiter) {
          StartNextHeredocOrCode();
        } else {
          body_line_.clear();
        }
      }
      return;
    case Mode::kCode:
      break;
  }

  const Frame top = frames_.back();
  if (top == Frame::kSingle) {
    if (c == '\'') frames_.pop_back();
    return;
  }
  if (escaped_) {
    escaped_ = false;
    word_start_ = false;
    prev_ = 0;
    return;
  }
  if (top == Frame::kDouble) {
    if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      frames_.pop_back();
    } else if (c == '`') {
      frames_.push_back(Frame::kBacktick);
    } else if (c == '(' && prev_ == '$') {
      frames_.push_back(Frame::kCmdSubst);
      word_start_ = true;
      prev_ = 0;
      return;
    }
    prev_ = c;
    return;
  }

  // Code: top level, ( ), $( ), ` `.
  if (c == '#' && word_start_) {
    mode_ = Mode::kComment;
    return;
  }
  bool word_start = false;
  switch (c) {
    case '\\':
      escaped_ = true;
      break;
    case '\'':
      frames_.push_back(Frame::kSingle);
      break;
    case '"':
      frames_.push_back(Frame::kDouble);
      break;
    case '`':
      if (top == Frame::kBacktick) {
        frames_.pop_back();
      } else {
        frames_.push_back(Frame::kBacktick);
      }
      break;
    case '(':
      frames_.push_back(prev_ == '$' ? Frame::kCmdSubst : Frame::kParen);
      word_start = true;
      break;
    case ')':
      if (top == Frame::kParen || top == Frame::kCmdSubst) frames_.pop_back();
      word_start = true;
      break;
    case '<':
      if (prev_ == '<') {
        mode_ = Mode::kHeredocOp;
        reading_ = Heredoc{};
        word_started_ = false;
        prev_ = 0;
        return;
      }
      word_start = true;
      break;
    case '\n':
      word_start_ = true;
      prev_ = 0;
      if (!pending_.empty()) StartNextHeredocOrCode();
      return;
    default:
      word_start = IsWordBreak(c);
      break;
  }
  word_start_ = word_start;
  prev_ = c;
}

Result<std::string> ShellSplicer::Quote(std::string_view value) const {
  switch (mode_) {
    case Mode::kComment:
      if (value.find('\n') != std::string_view::npos) {
        return Result<std::string>::Error(
            "a value with a newline cannot go inside a shell comment (it would end the comment)");
      }
      return std::string(value);
    case Mode::kHeredocOp:
    case Mode::kHeredocWord:
      return Result<std::string>::Error("a value cannot be a here-document delimiter");
    case Mode::kHeredocBody: {
      // No line the value is part of may be the delimiter line. The last one is checked as if
      // it ended here: the script usually goes on with a newline.
      std::string text = body_line_;
      text.append(value);
      size_t start = 0;
      while (start <= text.size()) {
        size_t nl = std::min(text.find('\n', start), text.size());
        std::string_view line(text.data() + start, nl - start);
        if (body_.strip_tabs)
          line.remove_prefix(std::min(line.find_first_not_of('\t'), line.size()));
        if (line == body_.delimiter) {
          return Result<std::string>::Error("the value holds the line '" + body_.delimiter +
                                            "' that would end the here-document");
        }
        start = nl + 1;
      }
      return body_.expand ? BackslashEscape(value, "\\$`") : std::string(value);
    }
    case Mode::kCode:
      break;
  }
  if (escaped_ || backtick_backslash_) {
    return Result<std::string>::Error("a value cannot follow a backslash in a shell command");
  }
  const Frame top = frames_.back();
  if (top != Frame::kSingle && prev_ == '$') {
    return Result<std::string>::Error("a value right after '$' would be read as a shell expansion");
  }
  std::string quoted;
  if (top == Frame::kSingle) {
    quoted = EscapeForSingleQuotes(value);
  } else if (top == Frame::kDouble) {
    quoted = BackslashEscape(value, "\\$`\"");
  } else {
    quoted = ShellQuote(value);
  }
  // Inside `...` the shell removes one level of backslashes before \, ` and $ before it parses
  // the inner command: add that level once per enclosing backtick.
  int backticks = static_cast<int>(std::count(frames_.begin(), frames_.end(), Frame::kBacktick));
  for (int i = 0; i < backticks; ++i) quoted = BackslashEscape(quoted, "\\`$");
  return quoted;
}

}  // namespace runbook
