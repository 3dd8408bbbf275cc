#include "engine/template.h"

#include <cctype>
#include <string_view>
#include <utility>

#include "engine/shell_quote.h"

namespace runbook {

namespace {

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";

// ---- parsing --------------------------------------------------------------------------------

struct Node {
  enum class Op { kLiteral, kRef, kNot, kEq, kNe, kAnd, kOr };
  Op op = Op::kLiteral;
  std::string literal;
  int ref = -1;  // index into ParsedTemplate::refs
  int a = -1;
  int b = -1;
};

struct Expr {
  std::string text;  // as written, for messages: "${{ params.x }}" (a bare condition: itself)
  std::vector<Node> nodes;
  int root = -1;
};

// The text split into literal pieces and expressions, in order.
struct Piece {
  bool is_expr = false;
  size_t begin = 0;  // offsets into raw
  size_t end = 0;
  int expr = -1;
};

struct ParsedTemplate {
  std::vector<Piece> pieces;
  std::vector<Expr> exprs;
  std::vector<TemplateRef> refs;
  std::vector<size_t> ref_offsets;  // where each ref is in raw
};

struct SyntaxError {
  size_t offset = 0;
  std::string message;
};

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// An expression quoted in a message, cut short when long.
std::string Abbreviated(const std::string& text) {
  constexpr size_t kMax = 120;
  return text.size() <= kMax ? text : text.substr(0, kMax - 3) + "...";
}

// Returns the offset of the "}}" closing the expression that starts at `from` (just after "${{"),
// skipping quoted literals; npos when there is none.
size_t FindClose(const std::string& raw, size_t from) {
  char quote = 0;
  for (size_t i = from; i < raw.size(); ++i) {
    char c = raw[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '}' && i + 1 < raw.size() && raw[i + 1] == '}') {
      return i;
    }
  }
  return std::string::npos;
}

std::vector<std::string> SplitDots(std::string_view word) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = word.find('.', start);
    parts.emplace_back(word.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

// Recursive descent over one expression: raw[begin, end).
class ExprParser {
 public:
  ExprParser(const std::string& raw, size_t begin, size_t end, ParsedTemplate* out, Expr* expr)
      : raw_(raw), pos_(begin), end_(end), out_(out), expr_(expr) {}

  bool Parse(SyntaxError* error) {
    SkipSpace();
    if (pos_ >= end_) return Fail(pos_, "empty expression", error);
    int root = ParseOr(error);
    if (root < 0) return false;
    SkipSpace();
    if (pos_ < end_) return Fail(pos_, "unexpected '" + TokenText() + "'", error);
    expr_->root = root;
    return true;
  }

 private:
  bool Fail(size_t at, std::string message, SyntaxError* error) {
    if (error->message.empty())
      *error = {at, std::move(message) + " in " + Abbreviated(expr_->text)};
    return false;
  }

  // Bounds the recursion of nested ( and !, so no input can exhaust the stack.
  bool Deeper(SyntaxError* error) {
    if (++depth_ <= kMaxDepth) return true;
    Fail(pos_, "expression nested too deeply", error);
    return false;
  }

  void SkipSpace() {
    while (pos_ < end_ && std::isspace(static_cast<unsigned char>(raw_[pos_]))) ++pos_;
  }

  bool Accept(std::string_view op) {
    SkipSpace();
    if (raw_.compare(pos_, op.size(), op) == 0 && pos_ + op.size() <= end_) {
      pos_ += op.size();
      return true;
    }
    return false;
  }

  std::string TokenText() const {
    size_t n = 1;
    if (IsNameChar(raw_[pos_])) {
      while (pos_ + n < end_ && IsNameChar(raw_[pos_ + n])) ++n;
    }
    return raw_.substr(pos_, n);
  }

  int Add(Node node) {
    expr_->nodes.push_back(std::move(node));
    return static_cast<int>(expr_->nodes.size()) - 1;
  }

  int AddLiteral(std::string value) {
    Node node;
    node.literal = std::move(value);
    return Add(std::move(node));
  }

  int ParseOr(SyntaxError* error) {
    int left = ParseAnd(error);
    while (left >= 0 && Accept("||")) {
      int right = ParseAnd(error);
      if (right < 0) return -1;
      left = Add({Node::Op::kOr, "", -1, left, right});
    }
    return left;
  }

  int ParseAnd(SyntaxError* error) {
    int left = ParseNot(error);
    while (left >= 0 && Accept("&&")) {
      int right = ParseNot(error);
      if (right < 0) return -1;
      left = Add({Node::Op::kAnd, "", -1, left, right});
    }
    return left;
  }

  int ParseNot(SyntaxError* error) {
    SkipSpace();
    if (pos_ < end_ && raw_[pos_] == '!' && !(pos_ + 1 < end_ && raw_[pos_ + 1] == '=')) {
      if (!Deeper(error)) return -1;
      ++pos_;
      int operand = ParseNot(error);
      --depth_;
      if (operand < 0) return -1;
      return Add({Node::Op::kNot, "", -1, operand, -1});
    }
    return ParseCompare(error);
  }

  int ParseCompare(SyntaxError* error) {
    int left = ParsePrimary(error);
    if (left < 0) return -1;
    Node::Op op;
    if (Accept("==")) {
      op = Node::Op::kEq;
    } else if (Accept("!=")) {
      op = Node::Op::kNe;
    } else {
      return left;
    }
    int right = ParsePrimary(error);
    if (right < 0) return -1;
    return Add({op, "", -1, left, right});
  }

  int ParsePrimary(SyntaxError* error) {
    SkipSpace();
    if (pos_ >= end_) {
      Fail(pos_, "expected a value at the end", error);
      return -1;
    }
    char c = raw_[pos_];
    if (c == '(') {
      if (!Deeper(error)) return -1;
      size_t open = pos_++;
      int inner = ParseOr(error);
      --depth_;
      if (inner < 0) return -1;
      if (!Accept(")")) {
        Fail(open, "'(' without a matching ')'", error);
        return -1;
      }
      return inner;
    }
    if (c == '\'' || c == '"') return ParseString(error);
    if (!IsNameChar(c)) {
      Fail(pos_, "unexpected '" + std::string(1, c) + "'", error);
      return -1;
    }
    size_t start = pos_;
    while (pos_ < end_ && IsNameChar(raw_[pos_])) ++pos_;
    std::string_view word(raw_.data() + start, pos_ - start);
    if (word == "true" || word == "false") return AddLiteral(std::string(word));
    if (IsAllDigits(word) || (word.size() > 1 && word[0] == '-' && IsAllDigits(word.substr(1)))) {
      return AddLiteral(std::string(word));
    }
    return ParseReference(word, start, error);
  }

  int ParseString(SyntaxError* error) {
    char quote = raw_[pos_];
    size_t open = pos_++;
    std::string value;
    while (true) {
      if (pos_ >= end_) {
        Fail(open, "unterminated string", error);
        return -1;
      }
      char c = raw_[pos_++];
      if (c == quote) {
        // In '...' a doubled quote is one quote (as in GitHub Actions and SQL).
        if (quote == '\'' && pos_ < end_ && raw_[pos_] == '\'') {
          value += '\'';
          ++pos_;
          continue;
        }
        break;
      }
      value += c;
    }
    return AddLiteral(std::move(value));
  }

  int ParseReference(std::string_view word, size_t at, SyntaxError* error) {
    std::vector<std::string> parts = SplitDots(word);
    const std::string& root = parts[0];
    TemplateRef ref;
    ref.expr = expr_->text;
    size_t want = 2;
    if (root == "params") {
      ref.kind = TemplateRef::Kind::kParam;
    } else if (root == "secrets") {
      ref.kind = TemplateRef::Kind::kSecret;
    } else if (root == "env") {
      ref.kind = TemplateRef::Kind::kEnv;
    } else if (root == "run") {
      ref.kind = TemplateRef::Kind::kRun;
    } else if (root == "steps") {
      ref.kind = TemplateRef::Kind::kStep;
      want = 3;
    } else if (root == "databases") {
      ref.kind = TemplateRef::Kind::kDatabase;
      want = 3;
    } else {
      std::string message = "unknown name '" + root + "'";
      for (const char* known : {"params", "secrets", "steps", "databases"}) {
        if (root + "s" == known) message += " (did you mean '" + std::string(known) + "'?)";
      }
      Fail(at, message + " (expected params, secrets, env, run, steps or databases)", error);
      return -1;
    }
    static const char* const kShapes[] = {"params.NAME",      "secrets.NAME",
                                          "env.NAME",         "run.id or run.dir",
                                          "steps.ID.outcome", "databases.NAME.conninfo"};
    const char* shape = kShapes[static_cast<int>(ref.kind)];
    bool empty_part = false;
    for (const std::string& p : parts) empty_part = empty_part || p.empty();
    if (parts.size() != want || empty_part) {
      Fail(at, "'" + std::string(word) + "' is not of the form " + shape, error);
      return -1;
    }
    ref.name = parts[1];
    if (want == 3) ref.field = parts[2];
    if (ref.kind == TemplateRef::Kind::kRun && ref.name != "id" && ref.name != "dir") {
      Fail(at, "unknown field 'run." + ref.name + "' (expected run.id or run.dir)", error);
      return -1;
    }
    if (ref.kind == TemplateRef::Kind::kStep && ref.field != "outcome") {
      Fail(at, "unknown field '" + ref.field + "' of a step (expected steps.ID.outcome)", error);
      return -1;
    }
    if (ref.kind == TemplateRef::Kind::kDatabase && ref.field != "conninfo") {
      Fail(at, "unknown field '" + ref.field + "' of a database (expected databases.NAME.conninfo)",
           error);
      return -1;
    }
    out_->refs.push_back(std::move(ref));
    out_->ref_offsets.push_back(at);
    Node node;
    node.op = Node::Op::kRef;
    node.ref = static_cast<int>(out_->refs.size()) - 1;
    return Add(std::move(node));
  }

  static constexpr int kMaxDepth = 64;

  const std::string& raw_;
  int depth_ = 0;
  size_t pos_;
  size_t end_;
  ParsedTemplate* out_;
  Expr* expr_;
};

// Parses the expression raw[begin, end) into a new Expr; on error the Expr is dropped (its
// references too) and the error is appended.
bool ParseOneExpr(const std::string& raw, size_t begin, size_t end, std::string text,
                  ParsedTemplate* out, std::vector<SyntaxError>* errors) {
  Expr expr;
  expr.text = std::move(text);
  size_t refs_before = out->refs.size();
  SyntaxError error;
  ExprParser parser(raw, begin, end, out, &expr);
  if (!parser.Parse(&error)) {
    out->refs.resize(refs_before);
    out->ref_offsets.resize(refs_before);
    errors->push_back(std::move(error));
    return false;
  }
  out->exprs.push_back(std::move(expr));
  return true;
}

enum class Mode { kValue, kCondition };

// Splits text into literal pieces and expressions. Returns false with `errors` when any
// expression is malformed; `out` then holds the well-formed ones (for reference collection).
bool ParseTemplateText(const std::string& raw, Mode mode, ParsedTemplate* out,
                       std::vector<SyntaxError>* errors) {
  const size_t errors_before = errors->size();
  if (mode == Mode::kCondition && raw.find(kOpen) == std::string::npos) {
    if (ParseOneExpr(raw, 0, raw.size(), raw, out, errors)) {
      out->pieces.push_back({true, 0, raw.size(), 0});
    }
    return errors->size() == errors_before;
  }
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t open = raw.find(kOpen, pos);
    if (open == std::string::npos) {
      out->pieces.push_back({false, pos, raw.size()});
      break;
    }
    if (open > pos) out->pieces.push_back({false, pos, open});
    size_t inner = open + kOpen.size();
    size_t close = FindClose(raw, inner);
    if (close == std::string::npos) {
      errors->push_back({open, "'${{' without a closing '}}'"});
      return false;
    }
    size_t end = close + kClose.size();
    if (ParseOneExpr(raw, inner, close, raw.substr(open, end - open), out, errors)) {
      out->pieces.push_back({true, open, end, static_cast<int>(out->exprs.size()) - 1});
    }
    pos = end;
  }
  if (mode == Mode::kCondition && errors->size() == errors_before) {
    int exprs = 0;
    bool stray_text = false;
    for (const Piece& p : out->pieces) {
      if (p.is_expr) {
        ++exprs;
      } else {
        for (size_t i = p.begin; i < p.end; ++i) {
          stray_text = stray_text || !std::isspace(static_cast<unsigned char>(raw[i]));
        }
      }
    }
    if (exprs != 1 || stray_text) {
      errors->push_back({0,
                         "a condition is one ${{ }} expression or a bare expression, not text "
                         "mixed with ${{ }} (that would be a string, always true)"});
    }
  }
  return errors->size() == errors_before;
}

Location LocAt(const Text& text, size_t offset) {
  Location loc = text.loc;
  if (text.raw_col > 0) loc.col = text.raw_col + static_cast<int>(offset);
  return loc;
}

std::vector<TemplateRef> Collect(const Text& text, Mode mode, Diagnostics* diags) {
  ParsedTemplate parsed;
  std::vector<SyntaxError> errors;
  ParseTemplateText(text.raw, mode, &parsed, &errors);
  for (const SyntaxError& e : errors) diags->Error(LocAt(text, e.offset), e.message);
  for (size_t i = 0; i < parsed.refs.size(); ++i) {
    parsed.refs[i].loc = LocAt(text, parsed.ref_offsets[i]);
  }
  return std::move(parsed.refs);
}

// ---- evaluation -----------------------------------------------------------------------------

struct Value {
  std::string text;
  bool secret = false;
};

Result<Value> Lookup(const TemplateRef& ref, const TemplateScope& scope) {
  auto missing = [&](const std::string& what) {
    return Result<Value>::Error(what + " in " + ref.expr);
  };
  switch (ref.kind) {
    case TemplateRef::Kind::kParam: {
      if (scope.params != nullptr) {
        auto it = scope.params->find(ref.name);
        if (it != scope.params->end()) return Value{it->second};
      }
      return missing("no value for param '" + ref.name + "'");
    }
    case TemplateRef::Kind::kSecret: {
      if (scope.secrets != nullptr) {
        auto it = scope.secrets->find(ref.name);
        if (it != scope.secrets->end()) return Value{it->second, true};
      }
      return missing("no value for secret '" + ref.name + "'");
    }
    case TemplateRef::Kind::kEnv: {
      std::optional<std::string> v = scope.env ? scope.env(ref.name) : std::nullopt;
      if (v) return Value{*v};
      return missing("environment variable '" + ref.name + "' is not set");
    }
    case TemplateRef::Kind::kRun:
      return Value{ref.name == "id" ? scope.run_id : scope.run_dir};
    case TemplateRef::Kind::kStep: {
      if (scope.step_outcomes != nullptr) {
        auto it = scope.step_outcomes->find(ref.name);
        if (it != scope.step_outcomes->end()) return Value{it->second};
      }
      return missing("no outcome yet for step '" + ref.name + "'");
    }
    case TemplateRef::Kind::kDatabase: {
      std::optional<std::string> v = scope.db_conninfo ? scope.db_conninfo(ref.name) : std::nullopt;
      if (v) return Value{*v};
      return missing("unknown database '" + ref.name + "'");
    }
  }
  return missing("unknown reference");
}

Result<Value> Eval(const ParsedTemplate& t, const Expr& e, int n, const TemplateScope& scope) {
  const Node& node = e.nodes[n];
  auto boolean = [](bool b, bool secret) { return Value{b ? "true" : "false", secret}; };
  switch (node.op) {
    case Node::Op::kLiteral:
      return Value{node.literal};
    case Node::Op::kRef:
      return Lookup(t.refs[node.ref], scope);
    case Node::Op::kNot: {
      Result<Value> v = Eval(t, e, node.a, scope);
      if (!v.ok()) return v;
      return boolean(!IsTruthy(v->text), v->secret);
    }
    case Node::Op::kEq:
    case Node::Op::kNe: {
      Result<Value> a = Eval(t, e, node.a, scope);
      if (!a.ok()) return a;
      Result<Value> b = Eval(t, e, node.b, scope);
      if (!b.ok()) return b;
      bool equal = a->text == b->text;
      return boolean(node.op == Node::Op::kEq ? equal : !equal, a->secret || b->secret);
    }
    case Node::Op::kAnd:
    case Node::Op::kOr: {
      // Short-circuit: the right side is not looked up when the left decides, so
      // `steps.x.outcome` behind a false guard needs no value.
      Result<Value> a = Eval(t, e, node.a, scope);
      if (!a.ok()) return a;
      bool left = IsTruthy(a->text);
      if (node.op == Node::Op::kAnd ? !left : left) return boolean(left, a->secret);
      Result<Value> b = Eval(t, e, node.b, scope);
      if (!b.ok()) return b;
      return boolean(IsTruthy(b->text), a->secret || b->secret);
    }
  }
  return Result<Value>::Error("bad expression");
}

// Parses for rendering: the first syntax error becomes the error message.
Result<ParsedTemplate> ParseForRender(const Text& text, Mode mode) {
  ParsedTemplate parsed;
  std::vector<SyntaxError> errors;
  if (!ParseTemplateText(text.raw, mode, &parsed, &errors)) {
    return Result<ParsedTemplate>::Error(errors.front().message);
  }
  return parsed;
}

// ---- SQL lexical state ----------------------------------------------------------------------

// Follows PostgreSQL's lexical structure far enough to know whether a position is in code or
// inside a string, quoted identifier, dollar-quoted string or comment.
class SqlLexer {
 public:
  enum class State { kCode, kString, kEscapeString, kIdent, kDollar, kLineComment, kBlockComment };

  void Feed(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      char next = i + 1 < s.size() ? s[i + 1] : 0;
      switch (state_) {
        case State::kCode:
          if (c == '-' && next == '-') {
            state_ = State::kLineComment;
            ++i;
          } else if (c == '/' && next == '*') {
            state_ = State::kBlockComment;
            depth_ = 1;
            ++i;
          } else if (c == '\'') {
            bool e_prefix = (prev_ == 'E' || prev_ == 'e') && !IsIdentChar(prev2_);
            state_ = e_prefix ? State::kEscapeString : State::kString;
          } else if (c == '"') {
            state_ = State::kIdent;
          } else if (c == '$' && !IsIdentChar(prev_)) {
            size_t j = i + 1;
            if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) break;
            while (j < s.size() && s[j] != '$' && IsIdentChar(s[j])) ++j;
            if (j < s.size() && s[j] == '$') {
              tag_ = std::string(s.substr(i, j - i + 1));
              state_ = State::kDollar;
              i = j;
            }
          }
          break;
        case State::kString:
        case State::kEscapeString:
          if (state_ == State::kEscapeString && c == '\\') {
            ++i;
          } else if (c == '\'') {
            if (next == '\'') {
              ++i;
            } else {
              state_ = State::kCode;
            }
          }
          break;
        case State::kIdent:
          if (c == '"') {
            if (next == '"') {
              ++i;
            } else {
              state_ = State::kCode;
            }
          }
          break;
        case State::kDollar:
          if (s.compare(i, tag_.size(), tag_) == 0) {
            i += tag_.size() - 1;
            state_ = State::kCode;
          }
          break;
        case State::kLineComment:
          if (c == '\n') state_ = State::kCode;
          break;
        case State::kBlockComment:
          if (c == '/' && next == '*') {
            ++depth_;
            ++i;
          } else if (c == '*' && next == '/') {
            ++i;
            if (--depth_ == 0) state_ = State::kCode;
          }
          break;
      }
      prev2_ = i >= 1 ? s[i - 1] : prev_;
      prev_ = s[i];
    }
  }

  // Called for a value placed at the current position (a bind parameter: code, not a name).
  void FeedValue() {
    prev_ = '1';
    prev2_ = '$';
  }

  State state() const { return state_; }

 private:
  static bool IsIdentChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  }

  State state_ = State::kCode;
  int depth_ = 0;
  std::string tag_;
  char prev_ = 0;
  char prev2_ = 0;
};

const char* SqlPlaceName(SqlLexer::State s) {
  switch (s) {
    case SqlLexer::State::kString:
    case SqlLexer::State::kEscapeString:
    case SqlLexer::State::kDollar:
      return "an SQL string";
    case SqlLexer::State::kIdent:
      return "an SQL quoted identifier";
    case SqlLexer::State::kLineComment:
    case SqlLexer::State::kBlockComment:
      return "an SQL comment";
    case SqlLexer::State::kCode:
      break;
  }
  return "SQL code";
}

std::string SqlPlacementError(const Expr& e, SqlLexer::State s) {
  return e.text + " is inside " + SqlPlaceName(s) +
         ": a ${{ }} in SQL becomes a bind parameter, write it without quotes";
}

std::string SqlLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

bool IsTruthy(const std::string& value) {
  return !(value.empty() || value == "false" || value == "0");
}

std::vector<TemplateRef> CollectRefs(const Text& text, Diagnostics* diags) {
  if (!text.HasTemplate()) return {};
  return Collect(text, Mode::kValue, diags);
}

std::vector<TemplateRef> CollectConditionRefs(const Text& text, Diagnostics* diags) {
  return Collect(text, Mode::kCondition, diags);
}

Result<Rendered> RenderText(const Text& text, const TemplateScope& scope, Quote quote) {
  Result<ParsedTemplate> parsed = ParseForRender(text, Mode::kValue);
  if (!parsed.ok()) return Result<Rendered>::Error(parsed.message());
  Rendered out;
  ShellSplicer shell;
  for (const Piece& piece : parsed->pieces) {
    if (!piece.is_expr) {
      std::string_view literal(text.raw.data() + piece.begin, piece.end - piece.begin);
      if (quote == Quote::kShell) shell.AppendLiteral(literal);
      out.value.append(literal);
      out.display.append(literal);
      continue;
    }
    const Expr& e = parsed->exprs[piece.expr];
    Result<Value> v = Eval(*parsed, e, e.root, scope);
    if (!v.ok()) return Result<Rendered>::Error(v.message());
    std::string inserted = v->text;
    if (quote == Quote::kShell) {
      Result<std::string> quoted = shell.AppendValue(v->text);
      if (!quoted.ok()) return Result<Rendered>::Error(quoted.message() + ": " + e.text);
      inserted = *quoted;
    }
    out.value += inserted;
    out.display += v->secret ? "***" : inserted;
    out.used_secret = out.used_secret || v->secret;
  }
  return out;
}

Result<SqlText> RenderSql(const Text& text, const TemplateScope& scope) {
  Result<ParsedTemplate> parsed = ParseForRender(text, Mode::kValue);
  if (!parsed.ok()) return Result<SqlText>::Error(parsed.message());
  SqlText out;
  SqlLexer lexer;
  for (const Piece& piece : parsed->pieces) {
    if (!piece.is_expr) {
      std::string_view literal(text.raw.data() + piece.begin, piece.end - piece.begin);
      lexer.Feed(literal);
      out.query.append(literal);
      out.display.append(literal);
      continue;
    }
    const Expr& e = parsed->exprs[piece.expr];
    if (lexer.state() != SqlLexer::State::kCode) {
      return Result<SqlText>::Error(SqlPlacementError(e, lexer.state()));
    }
    Result<Value> v = Eval(*parsed, e, e.root, scope);
    if (!v.ok()) return Result<SqlText>::Error(v.message());
    out.params.push_back(v->text);
    out.query += "$" + std::to_string(out.params.size());
    out.display += v->secret ? "***" : SqlLiteral(v->text);
    lexer.FeedValue();
  }
  return out;
}

void CheckSqlTemplate(const Text& text, Diagnostics* diags) {
  if (!text.HasTemplate()) return;
  ParsedTemplate parsed;
  std::vector<SyntaxError> errors;
  ParseTemplateText(text.raw, Mode::kValue, &parsed, &errors);  // syntax: CollectRefs reports it
  SqlLexer lexer;
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) {
      lexer.Feed(std::string_view(text.raw.data() + piece.begin, piece.end - piece.begin));
    } else if (lexer.state() != SqlLexer::State::kCode) {
      diags->Error(LocAt(text, piece.begin),
                   SqlPlacementError(parsed.exprs[piece.expr], lexer.state()));
    } else {
      lexer.FeedValue();
    }
  }
}

Result<bool> EvaluateCondition(const Text& text, const TemplateScope& scope) {
  Result<ParsedTemplate> parsed = ParseForRender(text, Mode::kCondition);
  if (!parsed.ok()) return Result<bool>::Error(parsed.message());
  const Expr& e = parsed->exprs.front();
  Result<Value> v = Eval(*parsed, e, e.root, scope);
  if (!v.ok()) return Result<bool>::Error(v.message());
  return IsTruthy(v->text);
}

}  // namespace runbook
