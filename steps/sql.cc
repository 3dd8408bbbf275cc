#include "steps/sql.h"

#include <sstream>

#include "engine/read_file.h"
#include "engine/reader.h"
#include "engine/resolve.h"
#include "engine/sql_lex.h"
#include "steps/pg_util.h"
#include "steps/sql_guard.h"

namespace runbook {
namespace {

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool IsNumericType(uint32_t oid) {
  switch (oid) {
    case 20:    // int8
    case 21:    // int2
    case 23:    // int4
    case 26:    // oid
    case 700:   // float4
    case 701:   // float8
    case 790:   // money
    case 1700:  // numeric
      return true;
    default:
      return false;
  }
}

std::string RTrim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The SQL the step runs: a rendered query, or the contents of the rendered file path.
Result<SqlText> LoadSql(const SqlStep& step, StepEnv& env) {
  if (step.query) return env.RenderSql(*step.query);
  if (!step.file) return Result<SqlText>::Error("sql step has neither query nor file");
  Result<std::string> path = env.Render(*step.file);
  if (!path.ok()) return Result<SqlText>::Error(path.message());
  Result<std::string> read = ReadFile(*path);
  if (!read.ok()) return Result<SqlText>::Error("SQL file " + *path + " " + read.message());
  SqlText text;
  text.query = std::move(read).value();
  text.display = text.query;
  return text;
}

}  // namespace

std::unique_ptr<StepKind> SqlStep::Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "query", "file", "show", "expect"};
  MapReader r(value, "'sql' of " + owner, kKeys, diags);
  if (!r.ok()) return nullptr;
  SqlStep s;
  bool ok = true;
  if (auto db = r.RequireName("db")) {
    s.db = std::move(*db);
  } else {
    ok = false;
  }
  s.query = r.GetText("query");
  s.file = r.GetText("file");
  if (r.Has("query") && r.Has("file")) {
    diags->Error(r.GetKey("file")->loc,
                 "'sql' of " + owner + " has both 'query' and 'file': keep one");
    ok = false;
  } else if (!r.Has("query") && !r.Has("file")) {
    diags->Error(value.loc, "'sql' of " + owner + " needs 'query' or 'file'");
    ok = false;
  }
  if (r.Has("show")) {
    if (auto show = r.Choice("show", {"table", "none"})) {
      s.show = *show == 0 ? ShowMode::kTable : ShowMode::kNone;
    } else {
      ok = false;
    }
  }
  s.expect = r.GetText("expect");
  if (!ok) return nullptr;
  return std::make_unique<SqlStep>(std::move(s));
}

void SqlStep::Check(KindCheck& check) const {
  check.Database(db);
  if (query.has_value() == file.has_value()) {
    check.Error(check.step().kind_loc, "sql needs exactly one of query and file");
  }
  if (query) check.Sql(*query);
  check.Template(file);
  check.Template(expect);
}

void SqlStep::Define(DefinitionBuilder& def) const {
  def.Set("db", db.name);
  def.Put("query", query);
  def.Put("file", file);
  def.Set("show", std::string(show == ShowMode::kTable ? "table" : "none"));
  def.Put("expect", expect);
}

std::vector<std::string> SqlStep::Observe(StepEnv&) const {
  return {};
}

std::vector<std::string> FormatPsqlTable(const PgResult& result) {
  const size_t nc = result.columns.size();
  auto cell = [](const std::optional<std::string>& v) {
    if (!v) return std::string();
    std::string s;
    for (char c : *v) {
      if (c == '\n') {
        s += "\\n";
      } else {
        s += c;
      }
    }
    return s;
  };
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths(nc);
  for (size_t c = 0; c < nc; ++c) widths[c] = Utf8Length(result.columns[c]);
  for (const PgRow& row : result.rows) {
    std::vector<std::string> line;
    for (size_t c = 0; c < nc; ++c) {
      line.push_back(cell(c < row.size() ? row[c] : std::nullopt));
      widths[c] = std::max(widths[c], Utf8Length(line.back()));
    }
    cells.push_back(std::move(line));
  }
  std::vector<std::string> out;
  std::string header;
  std::string separator;
  for (size_t c = 0; c < nc; ++c) {
    const size_t pad = widths[c] - Utf8Length(result.columns[c]);
    header += (c ? " | " : " ") + std::string(pad / 2, ' ') + result.columns[c] +
              std::string(pad - pad / 2, ' ');
    separator += (c ? "+" : "") + std::string(widths[c] + 2, '-');
  }
  out.push_back(RTrim(header));
  out.push_back(separator);
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < nc; ++c) {
      const std::string pad(widths[c] - Utf8Length(line[c]), ' ');
      const bool right = c < result.column_types.size() && IsNumericType(result.column_types[c]);
      text += (c ? " | " : " ") + (right ? pad + line[c] : line[c] + pad);
    }
    out.push_back(RTrim(text));
  }
  out.push_back(result.rows.size() == 1 ? "(1 row)"
                                        : "(" + std::to_string(result.rows.size()) + " rows)");
  return out;
}

StepDescription SqlStep::Describe(StepEnv& env) const {
  const SqlStep& step = *this;
  std::vector<std::string> out;
  if (step.file) {
    Result<std::string> path = env.RenderShown(*step.file);
    out.push_back("on " + step.db.name + ": run SQL file " +
                  (path.ok() ? *path : "<" + path.message() + ">"));
  } else if (step.query) {
    Result<SqlText> sql = env.RenderSql(*step.query);
    out.push_back("on " + step.db.name + ":");
    if (!sql.ok()) {
      out.push_back("  <" + sql.message() + ">");
    } else {
      std::istringstream lines(sql->display);
      for (std::string line; std::getline(lines, line);) out.push_back("  " + line);
    }
  }
  if (step.expect) {
    Result<std::string> e = env.RenderShown(*step.expect);
    out.push_back("expect: " + (e.ok() ? *e : "<" + e.message() + ">"));
  }
  return {out, std::nullopt};
}

StepOutcome SqlStep::Run(StepEnv& env) const {
  const SqlStep& step = *this;
  Result<SqlText> sql = LoadSql(step, env);
  if (!sql.ok()) return {false, sql.message()};
  if (env.dry_run() == DryRun::kYes) {
    for (const std::string& line : Describe(env).details) env.Out().Line(Stream::kInfo, line);
    return {true, "dry run: not executed"};
  }
  std::string expect;
  if (step.expect) {
    Result<std::string> e = env.Render(*step.expect);
    if (!e.ok()) return {false, "cannot render expect: " + e.message()};
    expect = *e;
  }
  const std::vector<SqlStatement> statements = SplitSqlStatements(sql->query);
  if (statements.empty()) return {false, "no SQL statement to run"};
  auto conn = ConnectForStep(env, step.db);
  if (!conn.ok()) return {false, conn.message()};

  PgResult last;
  for (size_t i = 0; i < statements.size(); ++i) {
    const SqlStatement& st = statements[i];
    // Leading newlines and spaces keep the server's error position on the script's own lines.
    const LineCol at = LineColAt(sql->query, st.offset);
    std::string text(at.line, '\n');
    text.append(at.col, ' ');
    // Renumber the placeholders this statement uses to $1..$k and bind just those values.
    std::vector<std::string> params;
    std::vector<int> seen;
    size_t copied = 0;
    for (const Placeholder& ph : FindPlaceholders(st.text)) {
      text.append(st.text, copied, ph.pos - copied);
      copied = ph.pos + ph.len;
      if (ph.number < 1 || static_cast<size_t>(ph.number) > sql->params.size()) {
        text.append(st.text, ph.pos, ph.len);  // not ours: the server reports it
        continue;
      }
      size_t k = 0;
      while (k < seen.size() && seen[k] != ph.number) ++k;
      if (k == seen.size()) {
        seen.push_back(ph.number);
        params.push_back(sql->params[ph.number - 1]);
      }
      text += "$" + std::to_string(k + 1);
    }
    text.append(st.text, copied);
    Result<PgResult> r = (**conn).Exec(text, params);
    if (!r.ok()) {
      if (statements.size() == 1) return {false, r.message()};
      return {false, "statement " + std::to_string(i + 1) + " of " +
                         std::to_string(statements.size()) + " failed: " + r.message()};
    }
    if (step.show == ShowMode::kTable && r->returns_rows) {
      for (const std::string& line : FormatPsqlTable(*r)) env.Out().Line(Stream::kStdout, line);
    }
    // Each statement's result in the output and the log (one statement's is the step's message).
    if (statements.size() > 1) {
      env.Out().Line(Stream::kInfo, "statement " + std::to_string(i + 1) + " of " +
                                        std::to_string(statements.size()) + ": " + r->command_tag);
    }
    last = std::move(r).value();
  }
  if (step.expect) {
    const ExpectCheck check = CheckSqlExpectation(last, expect, std::nullopt);
    if (!check.held) return {false, "expected " + expect + ", got " + check.got};
  }
  std::string message = last.command_tag;
  if (statements.size() > 1) {
    message = std::to_string(statements.size()) + " statements, last: " + last.command_tag;
  }
  return {true, message};
}

}  // namespace runbook
