#include "steps/sql_guard.h"

#include <algorithm>
#include <cctype>

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

GuardResult EvalSqlGuard(const SqlGuard& guard, StepEnv& env) {
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

std::vector<std::string> DescribeSqlGuard(const SqlGuard& guard, StepEnv& env) {
  Result<SqlText> sql = env.RenderSql(guard.query);
  std::string expect = "true";
  if (guard.expect) {
    Result<std::string> e = env.Render(*guard.expect);
    expect = e.ok() ? *e : "<" + e.message() + ">";
  }
  const std::string wanted =
      guard.expect_rows ? std::to_string(*guard.expect_rows) + " rows" : expect;
  return {"on " + guard.db.name +
              " (read only): " + (sql.ok() ? sql->display : "<" + sql.message() + ">"),
          "expect: " + wanted};
}

}  // namespace runbook
