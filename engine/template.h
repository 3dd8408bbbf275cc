// Templating: `${{ ... }}` expressions inside runbook text, and `if:` conditions.
//
// An expression is one of these references, or a condition built from them:
//   params.NAME   secrets.NAME   env.NAME   run.id   run.dir
//   steps.ID.outcome             databases.NAME.conninfo (libpq conninfo, without the password)
//   literals: 'text' (a '' inside is one quote), "text", true, false, integers
//   operators, loosest first: ||  &&  == !=  !  ( )
// Every value is a string: `==` compares text, a condition is false when its value is "", "false"
// or "0", and operators yield "true" or "false". Names allow [A-Za-z0-9_-] and whitespace inside
// `${{ }}` is free. There is no escape for a literal "${{" in text.
//
// An `if:` is either one `${{ expr }}` or a bare expression without `${{` (as GitHub Actions);
// text mixing both is an error, since it would be a string and so always true.
//
// Rendering never guesses: a reference without a value (unset environment variable, param
// without value, unknown step outcome) is an error naming the expression.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"
#include "engine/loader.h"
#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

// One reference found in a text, for validation. The strings are views into the text's `raw`:
// they are valid while it is (validation collects every reference of the runbook).
struct TemplateRef {
  enum class Kind { kParam, kSecret, kEnv, kRun, kStep, kDatabase };
  Kind kind = Kind::kParam;
  std::string_view name;   // NAME / ID; for run: "id" or "dir"
  std::string_view field;  // "outcome" for steps, "conninfo" for databases, else empty
  std::string_view expr;   // the whole expression as written, e.g. "${{ params.x }}", for messages
  Location loc;  // of the reference itself when the text's columns are known (Text::raw_col)
};

// Parses every `${{ }}` of a value. Syntax errors go to `diags` (one per broken expression, at
// its column when known) and the references of the well-formed expressions are returned, as
// views into `text`.
std::vector<TemplateRef> CollectRefs(const Text& text, Diagnostics* diags);

// The same for an `if:` condition (one `${{ }}` or a bare expression).
std::vector<TemplateRef> CollectConditionRefs(const Text& text, Diagnostics* diags);

// Where the values of references come from while rendering. Unset members make their
// references fail to render.
struct TemplateScope {
  const ParamValues* params = nullptr;
  const std::map<std::string, std::string>* secrets = nullptr;  // name -> value
  std::function<std::optional<std::string>(const std::string&)> env;
  // The environment variables secrets are read from: `${{ env.VAR }}` of one is a secret.
  const std::vector<std::string>* secret_env = nullptr;
  std::string run_id;
  std::string run_dir;
  const std::map<std::string, std::string>* step_outcomes = nullptr;  // id -> "success", ...
  // Instead of step_outcomes: any step's outcome is the placeholder "<outcome of ID>", so that
  // a plan renders what the run that executes it will hash (REQUIRES: a validated runbook, whose
  // references all name steps).
  bool outcome_placeholders = false;
  std::function<std::optional<std::string>(const std::string&)> db_conninfo;  // no password
};

struct Rendered {
  std::string value;    // what runs
  std::string display;  // what is shown: every secret's value replaced by ***
  bool used_secret = false;
};

// Renders a text whose values are data where they land (a field, an environment variable, one
// argument): never a shell script, whose `${{ }}` validate refuses (values reach scripts through
// `env:`, so no code path has to quote a value for the shell's syntax).
Result<Rendered> RenderText(const Text& text, const TemplateScope& scope);

// Where the text at `offset` of text.raw was written: its own column when the text's columns are
// known (Text::raw_col), else the text's location.
Location LocationIn(const Text& text, size_t offset);

// Renders SQL: each `${{ }}` becomes a bind parameter $1, $2, ... with its value in `params`;
// values are never spliced into the query. `display` shows each value as an SQL literal
// ('...', secrets as ***). An expression inside an SQL string, quoted identifier or comment is
// an error (a $n there would not be a parameter).
Result<SqlText> RenderSql(const Text& text, const TemplateScope& scope);

// Validation of a text that RenderSql will render: reports each `${{ }}` placed inside an SQL
// string, quoted identifier or comment (where RenderSql would fail).
void CheckSqlTemplate(const Text& text, Diagnostics* diags);

// A text split at its `${{ }}` expressions, each one rendered: the literal pieces and the values,
// in order, for a caller that places each value itself (a conninfo's keyword values).
struct TemplatePiece {
  bool is_value = false;
  std::string text;       // the literal text, or the value
  std::string_view expr;  // a value's expression as written (a view into the text's raw)
  bool secret = false;
};
Result<std::vector<TemplatePiece>> RenderPieces(const Text& text, const TemplateScope& scope);

// Evaluates an `if:` condition.
Result<bool> EvaluateCondition(const Text& text, const TemplateScope& scope);

// The truth of a value: false for "", "false" and "0", true otherwise.
bool IsTruthy(const std::string& value);

}  // namespace runbook
