#include "engine/template.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <memory_resource>
#include <string_view>
#include <utility>

namespace runbook {

namespace {

constexpr std::string_view kOpen = "${{";
constexpr std::string_view kClose = "}}";

// ---- parsing --------------------------------------------------------------------------------
//
// A template is parsed each time it is checked or rendered: the structures below point into the
// text instead of copying out of it, and all expressions of a text share one node vector.

// A reference: views into the text being parsed.
struct Ref {
  TemplateRef::Kind kind = TemplateRef::Kind::kParam;
  std::string_view name;   // NAME / ID; for run: "id" or "dir"
  std::string_view field;  // "outcome", "conninfo" or empty
};

struct Node {
  enum class Op { kLiteral, kRef, kNot, kEq, kNe, kAnd, kOr };
  Op op = Op::kLiteral;
  std::string literal;
  Ref ref;            // kRef
  size_t offset = 0;  // kRef: where it is in the text
  int a = -1;
  int b = -1;
};

// The text split into literal pieces and expressions, in order.
struct Piece {
  bool is_expr = false;
  size_t begin = 0;  // offsets into raw; an expression's span is its whole "${{ ... }}" (a bare
  size_t end = 0;    // condition: the whole text), as quoted in messages
  int root = -1;     // expressions: the root node, and the range of their nodes
  int first_node = 0;
  int end_node = 0;
};

// Its vectors live in a Scratch (below) of the caller's.
struct ParsedTemplate {
  explicit ParsedTemplate(std::pmr::memory_resource* memory) : pieces(memory), nodes(memory) {
    pieces.reserve(8);
    nodes.reserve(8);
  }
  std::pmr::vector<Piece> pieces;
  std::pmr::vector<Node> nodes;  // of all expressions; references in the order written
};

// Stack room for the parse of a typical text, so that it allocates nothing; bigger ones spill
// over to the heap.
class Scratch {
 public:
  std::pmr::memory_resource* memory() { return &memory_; }

 private:
  alignas(std::max_align_t) char buffer_[2048];
  std::pmr::monotonic_buffer_resource memory_{buffer_, sizeof buffer_};
};

struct SyntaxError {
  size_t offset = 0;
  std::string message;
};

// The "C" locale's classes (the engine never sets another), without a library call per byte.
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

bool IsNameChar(char c) {
  return IsAlnum(c) || c == '_' || c == '-' || c == '.';
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// An expression quoted in a message, cut short when long.
std::string Abbreviated(std::string_view text) {
  constexpr size_t kMax = 120;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax - 3)) + "...";
}

std::string_view ExprText(std::string_view raw, const Piece& p) {
  return raw.substr(p.begin, p.end - p.begin);
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

// A dotted word split at its dots: the first three parts, how many there are, whether any is
// empty.
struct DottedWord {
  std::string_view parts[3];
  size_t count = 0;
  bool empty_part = false;
};

DottedWord SplitDots(std::string_view word) {
  DottedWord w;
  size_t start = 0;
  while (true) {
    size_t dot = word.find('.', start);
    std::string_view part = word.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (w.count < 3) w.parts[w.count] = part;
    ++w.count;
    w.empty_part = w.empty_part || part.empty();
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return w;
}

// Recursive descent over one expression: raw[begin, end), quoted in messages as `text`.
class ExprParser {
 public:
  ExprParser(const std::string& raw, size_t begin, size_t end, std::string_view text,
             ParsedTemplate* out)
      : raw_(raw), pos_(begin), end_(end), text_(text), out_(out) {}

  // The root node, or -1 with `error` set.
  int Parse(SyntaxError* error) {
    SkipSpace();
    if (pos_ >= end_) return Fail(pos_, "empty expression", error);
    int root = ParseOr(error);
    if (root < 0) return -1;
    SkipSpace();
    if (pos_ < end_) return Fail(pos_, "unexpected '" + TokenText() + "'", error);
    return root;
  }

 private:
  int Fail(size_t at, std::string message, SyntaxError* error) {
    if (error->message.empty()) *error = {at, std::move(message) + " in " + Abbreviated(text_)};
    return -1;
  }

  // Bounds the recursion of nested ( and !, so no input can exhaust the stack.
  bool Deeper(SyntaxError* error) {
    if (++depth_ <= kMaxDepth) return true;
    Fail(pos_, "expression nested too deeply", error);
    return false;
  }

  void SkipSpace() {
    while (pos_ < end_ && IsSpace(raw_[pos_])) ++pos_;
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
    out_->nodes.push_back(std::move(node));
    return static_cast<int>(out_->nodes.size()) - 1;
  }

  int AddOp(Node::Op op, int a, int b) {
    Node node;
    node.op = op;
    node.a = a;
    node.b = b;
    return Add(std::move(node));
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
      left = AddOp(Node::Op::kOr, left, right);
    }
    return left;
  }

  int ParseAnd(SyntaxError* error) {
    int left = ParseNot(error);
    while (left >= 0 && Accept("&&")) {
      int right = ParseNot(error);
      if (right < 0) return -1;
      left = AddOp(Node::Op::kAnd, left, right);
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
      return AddOp(Node::Op::kNot, operand, -1);
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
    return AddOp(op, left, right);
  }

  int ParsePrimary(SyntaxError* error) {
    SkipSpace();
    if (pos_ >= end_) return Fail(pos_, "expected a value at the end", error);
    char c = raw_[pos_];
    if (c == '(') {
      if (!Deeper(error)) return -1;
      size_t open = pos_++;
      int inner = ParseOr(error);
      --depth_;
      if (inner < 0) return -1;
      if (!Accept(")")) return Fail(open, "'(' without a matching ')'", error);
      return inner;
    }
    if (c == '\'' || c == '"') return ParseString(error);
    if (!IsNameChar(c)) return Fail(pos_, "unexpected '" + std::string(1, c) + "'", error);
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
      if (pos_ >= end_) return Fail(open, "unterminated string", error);
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
    const DottedWord parts = SplitDots(word);
    const std::string_view root = parts.parts[0];
    Ref ref;
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
      std::string message = "unknown name '" + std::string(root) + "'";
      for (const char* known : {"params", "secrets", "steps", "databases"}) {
        if (std::string(root) + "s" == known) {
          message += " (did you mean '" + std::string(known) + "'?)";
        }
      }
      return Fail(at, message + " (expected params, secrets, env, run, steps or databases)", error);
    }
    static const char* const kShapes[] = {"params.NAME",      "secrets.NAME",
                                          "env.NAME",         "run.id or run.dir",
                                          "steps.ID.outcome", "databases.NAME.conninfo"};
    const char* shape = kShapes[static_cast<int>(ref.kind)];
    if (parts.count != want || parts.empty_part) {
      return Fail(at, "'" + std::string(word) + "' is not of the form " + shape, error);
    }
    ref.name = parts.parts[1];
    if (want == 3) ref.field = parts.parts[2];
    if (ref.kind == TemplateRef::Kind::kRun && ref.name != "id" && ref.name != "dir") {
      return Fail(at,
                  "unknown field 'run." + std::string(ref.name) + "' (expected run.id or run.dir)",
                  error);
    }
    if (ref.kind == TemplateRef::Kind::kStep && ref.field != "outcome") {
      return Fail(
          at,
          "unknown field '" + std::string(ref.field) + "' of a step (expected steps.ID.outcome)",
          error);
    }
    if (ref.kind == TemplateRef::Kind::kDatabase && ref.field != "conninfo") {
      return Fail(at,
                  "unknown field '" + std::string(ref.field) +
                      "' of a database (expected databases.NAME.conninfo)",
                  error);
    }
    Node node;
    node.op = Node::Op::kRef;
    node.ref = ref;
    node.offset = at;
    return Add(std::move(node));
  }

  static constexpr int kMaxDepth = 64;

  const std::string& raw_;
  int depth_ = 0;
  size_t pos_;
  size_t end_;
  std::string_view text_;
  ParsedTemplate* out_;
};

// Parses the expression raw[begin, end) whose whole span (with "${{ }}") is raw[span_begin,
// span_end); adds it as a piece, or on error appends the error and drops its nodes.
void ParseOneExpr(const std::string& raw, size_t begin, size_t end, size_t span_begin,
                  size_t span_end, ParsedTemplate* out, std::vector<SyntaxError>* errors) {
  const int first_node = static_cast<int>(out->nodes.size());
  SyntaxError error;
  ExprParser parser(raw, begin, end,
                    std::string_view(raw).substr(span_begin, span_end - span_begin), out);
  const int root = parser.Parse(&error);
  if (root < 0) {
    out->nodes.resize(first_node);
    errors->push_back(std::move(error));
    return;
  }
  out->pieces.push_back(
      {true, span_begin, span_end, root, first_node, static_cast<int>(out->nodes.size())});
}

enum class Mode { kValue, kCondition };

// Splits text into literal pieces and expressions. Returns false with `errors` when any
// expression is malformed; `out` then holds the well-formed ones (for reference collection).
bool ParseTemplateText(const std::string& raw, Mode mode, ParsedTemplate* out,
                       std::vector<SyntaxError>* errors) {
  const size_t errors_before = errors->size();
  if (mode == Mode::kCondition && raw.find(kOpen) == std::string::npos) {
    ParseOneExpr(raw, 0, raw.size(), 0, raw.size(), out, errors);
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
    ParseOneExpr(raw, inner, close, open, end, out, errors);
    pos = end;
  }
  if (mode == Mode::kCondition && errors->size() == errors_before) {
    int exprs = 0;
    bool stray_text = false;
    for (const Piece& p : out->pieces) {
      if (p.is_expr) {
        ++exprs;
      } else {
        for (size_t i = p.begin; i < p.end; ++i) stray_text = stray_text || !IsSpace(raw[i]);
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

std::vector<TemplateRef> Collect(const Text& text, Mode mode, Diagnostics* diags) {
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  std::vector<SyntaxError> errors;
  ParseTemplateText(text.raw, mode, &parsed, &errors);
  for (const SyntaxError& e : errors) diags->Error(LocationIn(text, e.offset), e.message);
  std::vector<TemplateRef> refs;
  for (const Piece& p : parsed.pieces) {
    for (int i = p.first_node; i < p.end_node; ++i) {
      const Node& n = parsed.nodes[i];
      if (n.op != Node::Op::kRef) continue;
      refs.push_back(
          {n.ref.kind, n.ref.name, n.ref.field, ExprText(text.raw, p), LocationIn(text, n.offset)});
    }
  }
  return refs;
}

// ---- evaluation -----------------------------------------------------------------------------

// A value: owned, or the string where it lives (a param, a secret, a literal of the template),
// which outlives the evaluation.
struct Value {
  std::string owned;
  const std::string* at = nullptr;
  bool secret = false;
  const std::string& text() const { return at ? *at : owned; }
};

Value Boolean(bool b, bool secret) {
  return Value{b ? "true" : "false", nullptr, secret};
}

Result<Value> Lookup(const Ref& ref, std::string_view expr, const TemplateScope& scope) {
  auto missing = [&](const std::string& what) {
    return Result<Value>::Error(what + " in " + std::string(expr));
  };
  const std::string name(ref.name);
  switch (ref.kind) {
    case TemplateRef::Kind::kParam: {
      if (scope.params != nullptr) {
        auto it = scope.params->find(name);
        if (it != scope.params->end()) return Value{{}, &it->second};
      }
      return missing("no value for param '" + name + "'");
    }
    case TemplateRef::Kind::kSecret: {
      if (scope.secrets != nullptr) {
        auto it = scope.secrets->find(name);
        if (it != scope.secrets->end()) return Value{{}, &it->second, true};
      }
      return missing("no value for secret '" + name + "'");
    }
    case TemplateRef::Kind::kEnv: {
      std::optional<std::string> v = scope.env ? scope.env(name) : std::nullopt;
      const bool secret = scope.secret_env != nullptr &&
                          std::find(scope.secret_env->begin(), scope.secret_env->end(), name) !=
                              scope.secret_env->end();
      if (v) return Value{std::move(*v), nullptr, secret};
      return missing("environment variable '" + name + "' is not set");
    }
    case TemplateRef::Kind::kRun:
      return Value{{}, name == "id" ? &scope.run_id : &scope.run_dir};
    case TemplateRef::Kind::kStep: {
      if (scope.outcome_placeholders) return Value{"<outcome of " + name + ">"};
      if (scope.step_outcomes != nullptr) {
        auto it = scope.step_outcomes->find(name);
        if (it != scope.step_outcomes->end()) return Value{{}, &it->second};
      }
      return missing("no outcome yet for step '" + name + "'");
    }
    case TemplateRef::Kind::kDatabase: {
      std::optional<std::string> v = scope.db_conninfo ? scope.db_conninfo(name) : std::nullopt;
      if (v) return Value{std::move(*v)};
      return missing("unknown database '" + name + "'");
    }
  }
  return missing("unknown reference");
}

// Evaluates node `n` of the expression whose text is `expr`.
Result<Value> Eval(const ParsedTemplate& t, std::string_view expr, int n,
                   const TemplateScope& scope) {
  const Node& node = t.nodes[n];
  switch (node.op) {
    case Node::Op::kLiteral:
      return Value{{}, &node.literal};
    case Node::Op::kRef:
      return Lookup(node.ref, expr, scope);
    case Node::Op::kNot: {
      Result<Value> v = Eval(t, expr, node.a, scope);
      if (!v.ok()) return v;
      return Boolean(!IsTruthy(v->text()), v->secret);
    }
    case Node::Op::kEq:
    case Node::Op::kNe: {
      Result<Value> a = Eval(t, expr, node.a, scope);
      if (!a.ok()) return a;
      Result<Value> b = Eval(t, expr, node.b, scope);
      if (!b.ok()) return b;
      bool equal = a->text() == b->text();
      return Boolean(node.op == Node::Op::kEq ? equal : !equal, a->secret || b->secret);
    }
    case Node::Op::kAnd:
    case Node::Op::kOr: {
      // Short-circuit: the right side is not looked up when the left decides, so
      // `steps.x.outcome` behind a false guard needs no value.
      Result<Value> a = Eval(t, expr, node.a, scope);
      if (!a.ok()) return a;
      bool left = IsTruthy(a->text());
      if (node.op == Node::Op::kAnd ? !left : left) return Boolean(left, a->secret);
      Result<Value> b = Eval(t, expr, node.b, scope);
      if (!b.ok()) return b;
      return Boolean(IsTruthy(b->text()), a->secret || b->secret);
    }
  }
  return Result<Value>::Error("bad expression");
}

// Parses for rendering: the first syntax error becomes the error message.
Status ParseForRender(const Text& text, Mode mode, ParsedTemplate* parsed) {
  std::vector<SyntaxError> errors;
  if (!ParseTemplateText(text.raw, mode, parsed, &errors)) {
    return Status::Error(errors.front().message);
  }
  return Status::Ok();
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

std::string SqlPlacementError(std::string_view expr, SqlLexer::State s) {
  return std::string(expr) + " is inside " + SqlPlaceName(s) +
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

Location LocationIn(const Text& text, size_t offset) {
  Location loc = text.loc;
  if (text.raw_col > 0) loc.col = text.raw_col + static_cast<int>(offset);
  return loc;
}

Result<Rendered> RenderText(const Text& text, const TemplateScope& scope) {
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  if (Status st = ParseForRender(text, Mode::kValue, &parsed); !st.ok()) {
    return Result<Rendered>::Error(st.message());
  }
  Rendered out;
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) {
      std::string_view literal(text.raw.data() + piece.begin, piece.end - piece.begin);
      out.value.append(literal);
      out.display.append(literal);
      continue;
    }
    const std::string_view expr = ExprText(text.raw, piece);
    Result<Value> v = Eval(parsed, expr, piece.root, scope);
    if (!v.ok()) return Result<Rendered>::Error(v.message());
    out.value += v->text();
    out.display += v->secret ? "***" : v->text();
    out.used_secret = out.used_secret || v->secret;
  }
  return out;
}

Result<SqlText> RenderSql(const Text& text, const TemplateScope& scope) {
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  if (Status st = ParseForRender(text, Mode::kValue, &parsed); !st.ok()) {
    return Result<SqlText>::Error(st.message());
  }
  SqlText out;
  SqlLexer lexer;
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) {
      std::string_view literal(text.raw.data() + piece.begin, piece.end - piece.begin);
      lexer.Feed(literal);
      out.query.append(literal);
      out.display.append(literal);
      continue;
    }
    const std::string_view expr = ExprText(text.raw, piece);
    if (lexer.state() != SqlLexer::State::kCode) {
      return Result<SqlText>::Error(SqlPlacementError(expr, lexer.state()));
    }
    Result<Value> v = Eval(parsed, expr, piece.root, scope);
    if (!v.ok()) return Result<SqlText>::Error(v.message());
    out.params.push_back(v->text());
    out.query += "$" + std::to_string(out.params.size());
    out.display += v->secret ? "***" : SqlLiteral(v->text());
    lexer.FeedValue();
  }
  return out;
}

Result<std::vector<TemplatePiece>> RenderPieces(const Text& text, const TemplateScope& scope) {
  using R = Result<std::vector<TemplatePiece>>;
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  if (Status st = ParseForRender(text, Mode::kValue, &parsed); !st.ok()) {
    return R::Error(st.message());
  }
  std::vector<TemplatePiece> out;
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) {
      out.push_back({false, text.raw.substr(piece.begin, piece.end - piece.begin), {}, false});
      continue;
    }
    const std::string_view expr = ExprText(text.raw, piece);
    Result<Value> v = Eval(parsed, expr, piece.root, scope);
    if (!v.ok()) return R::Error(v.message());
    out.push_back({true, v->text(), expr, v->secret});
  }
  return out;
}

void CheckSqlTemplate(const Text& text, Diagnostics* diags) {
  if (!text.HasTemplate()) return;
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  std::vector<SyntaxError> errors;
  ParseTemplateText(text.raw, Mode::kValue, &parsed, &errors);  // syntax: CollectRefs reports it
  SqlLexer lexer;
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) {
      lexer.Feed(std::string_view(text.raw.data() + piece.begin, piece.end - piece.begin));
    } else if (lexer.state() != SqlLexer::State::kCode) {
      diags->Error(LocationIn(text, piece.begin),
                   SqlPlacementError(ExprText(text.raw, piece), lexer.state()));
    } else {
      lexer.FeedValue();
    }
  }
}

Result<bool> EvaluateCondition(const Text& text, const TemplateScope& scope) {
  Scratch scratch;
  ParsedTemplate parsed(scratch.memory());
  if (Status st = ParseForRender(text, Mode::kCondition, &parsed); !st.ok()) {
    return Result<bool>::Error(st.message());
  }
  for (const Piece& piece : parsed.pieces) {
    if (!piece.is_expr) continue;  // blanks around the one expression
    Result<Value> v = Eval(parsed, ExprText(text.raw, piece), piece.root, scope);
    if (!v.ok()) return Result<bool>::Error(v.message());
    return IsTruthy(v->text());
  }
  return Result<bool>::Error("no expression");  // unreachable: parsing checked there is one
}

}  // namespace runbook
