#include "steps/cancel_queries.h"

#include <cstdlib>

#include "engine/pg.h"
#include "engine/reader.h"
#include "engine/resolve.h"
#include "engine/units.h"
#include "steps/pg_util.h"

namespace runbook {
namespace {

struct Selection {
  double older_than = 0;  // seconds
  std::optional<std::string> application;
};

Result<Selection> RenderSelection(const CancelQueriesStep& step, StepEnv& env) {
  Selection s;
  if (step.older_than) {
    Result<std::string> text = env.Render(*step.older_than);
    if (!text.ok()) return Result<Selection>::Error(text.message());
    Result<double> secs = ParseDurationSeconds(*text);
    if (!secs.ok()) return Result<Selection>::Error("older_than: " + secs.message());
    s.older_than = *secs;
  }
  if (step.application_name) {
    Result<std::string> app = env.Render(*step.application_name);
    if (!app.ok()) return Result<Selection>::Error(app.message());
    s.application = *app;
  }
  return s;
}

// application_name filter as a LIKE pattern: '*' matches anything, the rest literally.
std::string LikePattern(const std::string& glob) {
  std::string out;
  for (char c : glob) {
    if (c == '*') {
      out += '%';
    } else {
      if (c == '%' || c == '_' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out;
}

// What the step does, on `conn`: selects the queries to cancel and, unless `dry`, cancels them in
// the same statement (a sixth column: pg_cancel_backend's result).
Result<PgResult> SelectAndCancel(const CancelQueriesStep& step, const Selection& sel, bool dry,
                                 StepEnv& env, PgConnection& conn) {
  std::string sql = std::string(
                        "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), "
                        "extract(epoch FROM now() - query_start)::float8, coalesce(query, '')") +
                    (dry ? "" : ", pg_cancel_backend(pid)") + " FROM pg_stat_activity WHERE " +
                    kNotOurs +
                    " AND state = 'active'"
                    " AND now() - query_start >= make_interval(secs => $2::float8)";
  std::vector<std::string> params = {RunApplicationPrefix(env.run_id()),
                                     std::to_string(sel.older_than)};
  if (step.read_only) sql += " AND backend_xid IS NULL";
  if (sel.application) {
    sql += " AND application_name LIKE $3";
    params.push_back(LikePattern(*sel.application));
  }
  sql += " ORDER BY query_start, pid";
  return dry ? ExecReadOnly(conn, sql, params) : conn.Exec(sql, params);
}

// "VERB pid N user U application 'A' running 5m: QUERY"
std::string QueryLine(const std::string& verb, const PgRow& row) {
  const double secs = row[3] ? std::atof(row[3]->c_str()) : 0;
  return verb + " pid " + row[0].value_or("?") + " user " + row[1].value_or("") + " application '" +
         row[2].value_or("") + "' running " + FormatSeconds(secs) + ": " +
         OneLine(row[4].value_or(""));
}

}  // namespace

std::unique_ptr<StepKind> CancelQueriesStep::Parse(const DocNode& value, const std::string& owner,
                                                   Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "older_than", "read_only",
                                                 "application_name"};
  MapReader r(value, "'cancel_queries' of " + owner, kKeys, diags);
  if (!r.ok()) return nullptr;
  CancelQueriesStep c;
  auto db = r.RequireName("db");
  c.older_than = r.GetText("older_than");
  if (c.older_than) CheckLiteral(*c.older_than, "'older_than'", ParseDuration, diags);
  if (auto ro = r.Bool("read_only")) c.read_only = *ro;
  c.application_name = r.GetText("application_name");
  if (!db) return nullptr;
  c.db = std::move(*db);
  return std::make_unique<CancelQueriesStep>(std::move(c));
}

void CancelQueriesStep::Check(KindCheck& check) const {
  check.Database(db);
  check.Template(older_than);
  check.Template(application_name);
}

void CancelQueriesStep::Define(DefinitionBuilder& def) const {
  def.Set("db", db.name);
  def.Put("older_than", older_than);
  def.Set("read_only", read_only);
  def.Put("application_name", application_name);
}

std::vector<std::string> CancelQueriesStep::Observe(StepEnv& env) const {
  const CancelQueriesStep& step = *this;
  Result<Selection> sel = RenderSelection(step, env);
  if (!sel.ok()) return {"cannot tell now: " + sel.message()};
  auto conn = ConnectForStep(env, step.db);
  if (!conn.ok()) return {"cannot tell now: " + conn.message()};
  Result<PgResult> r = SelectAndCancel(step, *sel, /*dry=*/true, env, **conn);
  if (!r.ok()) return {"cannot tell now: " + r.message()};
  if (r->rows.empty()) return {"no query would be cancelled now"};
  std::vector<std::string> lines;
  for (const PgRow& row : r->rows) lines.push_back(QueryLine("would cancel now", row));
  return lines;
}

StepDescription CancelQueriesStep::Describe(StepEnv& env) const {
  const CancelQueriesStep& step = *this;
  Result<Selection> sel = RenderSelection(step, env);
  if (!sel.ok()) return {{"<" + sel.message() + ">"}, std::nullopt};
  std::string line = "cancel active queries on " + step.db.name;
  if (sel->older_than > 0) line += " running longer than " + FormatSeconds(sel->older_than);
  if (step.application_name) {
    Result<std::string> shown = env.RenderShown(*step.application_name);  // secrets as ***
    line += " of application '" + (shown.ok() ? *shown : "<" + shown.message() + ">") + "'";
  }
  line += step.read_only ? ", only sessions that have written nothing" : ", writers included";
  return {{line}, std::nullopt};
}

StepOutcome CancelQueriesStep::Run(StepEnv& env) const {
  const CancelQueriesStep& step = *this;
  Result<Selection> sel = RenderSelection(step, env);
  if (!sel.ok()) return {false, sel.message()};
  auto conn = ConnectForStep(env, step.db);
  if (!conn.ok()) return {false, conn.message()};
  const bool dry = env.dry_run() == DryRun::kYes;
  Result<PgResult> r = SelectAndCancel(step, *sel, dry, env, **conn);
  if (!r.ok()) return {false, r.message()};
  int cancelled = 0;
  for (const PgRow& row : r->rows) {
    const bool ok = dry || (row.size() > 5 && row[5] == std::optional<std::string>("t"));
    cancelled += ok;
    const std::string verb = dry ? "would cancel" : ok ? "cancelled" : "could not cancel";
    env.Out().Line(Stream::kStdout, QueryLine(verb, row));
  }
  const auto n = r->rows.size();
  if (dry) {
    return {true, "would cancel " + std::to_string(n) + " quer" + (n == 1 ? "y" : "ies") + " on " +
                      step.db.name};
  }
  if (cancelled != static_cast<int>(n)) {
    return {false, "could cancel only " + std::to_string(cancelled) + " of " + std::to_string(n) +
                       " queries on " + step.db.name + " (insufficient privilege?)"};
  }
  return {true, "cancelled " + std::to_string(n) + " quer" + (n == 1 ? "y" : "ies") + " on " +
                    step.db.name};
}

}  // namespace runbook
