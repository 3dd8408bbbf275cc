#include "steps/postgres_idle.h"

#include <cstdlib>

#include "engine/pg.h"
#include "engine/reader.h"
#include "steps/pg_util.h"

namespace runbook {

std::unique_ptr<GuardKind> PostgresIdleGuard::Parse(const MapReader&, const DocNode& value,
                                                    const std::string& owner, Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "max_active", "ignore_applications"};
  MapReader r(value, "'postgres_idle' guard of " + owner, kKeys, diags);
  if (!r.ok()) return nullptr;
  PostgresIdleGuard g;
  auto db = r.RequireName("db");
  if (auto n = r.Int("max_active", 0, 1'000'000)) g.max_active = static_cast<int>(*n);
  if (auto apps = r.TextList("ignore_applications", AllowSingle::kYes)) {
    for (Text& t : *apps) g.ignore_applications.push_back(std::move(t.raw));
  }
  if (!db) return nullptr;
  g.db = std::move(*db);
  return std::make_unique<PostgresIdleGuard>(std::move(g));
}

void PostgresIdleGuard::Check(KindCheck& check) const {
  check.Database(db);
}

GuardResult PostgresIdleGuard::Evaluate(StepEnv& env) const {
  const PostgresIdleGuard& guard = *this;
  GuardResult out;
  auto conn = ConnectForStep(env, guard.db);
  if (!conn.ok()) {
    out.summary = "postgres_idle on " + guard.db.name + " cannot be evaluated: " + conn.message();
    return out;
  }
  const std::string sql =
      std::string(
          "SELECT pid, coalesce(usename, ''), coalesce(application_name, ''), "
          "coalesce(state, 'unknown'), "
          "extract(epoch FROM now() - coalesce(query_start, backend_start))::float8, "
          "coalesce(query, '') FROM pg_stat_activity WHERE ") +
      kNotOurs +
      " AND state IS DISTINCT FROM 'idle'"
      " AND NOT (coalesce(application_name, '') = ANY($2::text[]))"
      " ORDER BY query_start NULLS LAST, pid";
  Result<PgResult> r = ExecReadOnly(
      **conn, sql,
      {RunApplicationPrefix(env.run_id()), TextArrayLiteral(guard.ignore_applications)});
  if (!r.ok()) {
    out.summary = "postgres_idle on " + guard.db.name + " cannot be evaluated: " + r.message();
    return out;
  }
  for (const PgRow& row : r->rows) {
    const double secs = row[4] ? std::atof(row[4]->c_str()) : 0;
    out.evidence.push_back("pid " + row[0].value_or("?") + " user " + row[1].value_or("") +
                           " application '" + row[2].value_or("") + "' " + row[3].value_or("") +
                           " for " + FormatSeconds(secs) + ": " + OneLine(row[5].value_or("")));
  }
  const size_t n = r->rows.size();
  out.held = static_cast<int>(n) <= guard.max_active;
  const std::string count = std::to_string(n) + " other active backend" + (n == 1 ? "" : "s");
  if (out.held) {
    out.summary = "postgres is idle on " + guard.db.name + " (" + count + ")";
  } else {
    out.summary = "postgres is busy on " + guard.db.name + ": " + count + " (at most " +
                  std::to_string(guard.max_active) + " allowed)";
  }
  return out;
}

}  // namespace runbook
