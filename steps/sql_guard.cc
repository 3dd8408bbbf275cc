#include "steps/sql_guard.h"

#include <algorithm>
#include <cctype>

#include "engine/reader.h"
#include "steps/pg_util.h"

namespace runbook {
namespace {

std::string NormalizeBool(std::string v) {
  std::string lower = v;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "t" || lower == "true") return "true";
  if (lower == "f" || lower == "false") return "false";
  return v;
}

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

ExpectCheck CheckSqlExpectation(const PgResult& result, const std::string& expect,
                                std::optional<int64_t> expect_rows) {
  if (expect_rows) {
    const auto n = static_cast<int64_t>(result.rows.size());
    return {n == *expect_rows, Plural(result.rows.size(), "row", "rows")};
  }
  if (!result.returns_rows) return {false, "no result rows (" + result.command_tag + ")"};
  if (result.columns.size() != 1)
    return {false, Plural(result.columns.size(), "column", "columns")};
  if (result.rows.size() != 1) return {false, Plural(result.rows.size(), "row", "rows")};
  const auto& value = result.rows[0][0];
  if (!value) return {false, "NULL"};
  return {NormalizeBool(*value) == NormalizeBool(expect), *value};
}

std::unique_ptr<GuardKind> SqlGuard::Parse(const MapReader&, const DocNode& value,
                                           const std::string& owner, Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "query", "expect", "expect_rows"};
  const std::string context = "'sql' guard of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return nullptr;
  SqlGuard g;
  auto db = r.RequireName("db");
  auto query = r.RequireText("query");
  g.expect = r.GetText("expect");
  g.expect_rows = r.Int("expect_rows", 0, INT64_MAX);
  bool ok = true;
  if (r.Has("expect") && r.Has("expect_rows")) {
    diags->Error(r.GetKey("expect_rows")->loc,
                 context + " has both 'expect' and 'expect_rows': keep one");
    ok = false;
  }
  if (!db || !query || !ok) return nullptr;
  g.db = std::move(*db);
  g.query = std::move(*query);
  return std::make_unique<SqlGuard>(std::move(g));
}

void SqlGuard::Check(KindCheck& check) const {
  check.Database(db);
  check.Sql(query);
  check.Template(expect);
}

GuardResult SqlGuard::Evaluate(StepEnv& env) const {
  const SqlGuard& guard = *this;
  GuardResult out;
  const std::string where = "sql guard on " + guard.db.name;
  std::string expect = "true";
  if (guard.expect) {
    Result<std::string> e = env.Render(*guard.expect);
    if (!e.ok()) {
      out.summary = where + ": cannot render expect: " + e.message();
      return out;
    }
    expect = *e;
  }
  Result<SqlText> sql = env.RenderSql(guard.query);
  if (!sql.ok()) {
    out.summary = where + ": cannot render query: " + sql.message();
    return out;
  }
  const std::string wanted =
      guard.expect_rows ? std::to_string(*guard.expect_rows) + " rows" : expect;
  auto conn = ConnectForStep(env, guard.db);
  if (!conn.ok()) {
    out.summary = where + ": cannot be evaluated: " + conn.message();
    out.evidence = {"query: " + OneLine(sql->display)};
    return out;
  }
  Result<PgResult> r = ExecReadOnly(**conn, sql->query, sql->params);
  if (!r.ok()) {
    out.summary = where + ": query failed";
    out.evidence.push_back("query: " + OneLine(sql->display));
    size_t start = 0;
    const std::string& m = r.message();
    while (start <= m.size()) {
      size_t nl = m.find('\n', start);
      if (nl == std::string::npos) nl = m.size();
      out.evidence.push_back(m.substr(start, nl - start));
      start = nl + 1;
    }
    return out;
  }
  const ExpectCheck check = CheckSqlExpectation(*r, expect, guard.expect_rows);
  out.held = check.held;
  out.summary = where + (check.held ? ": got " : ": expected " + wanted + ", got ") + check.got;
  out.evidence = {"query: " + OneLine(sql->display), "expected: " + wanted, "got: " + check.got};
  return out;
}

}  // namespace runbook
