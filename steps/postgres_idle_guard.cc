#include "steps/postgres_idle_guard.h"

#include <cstdlib>

#include "engine/pg.h"
#include "steps/pg_util.h"

namespace runbook {

GuardResult EvalPostgresIdle(const PostgresIdleGuard& guard, StepEnv& env) {
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

std::vector<std::string> DescribePostgresIdle(const PostgresIdleGuard& guard, StepEnv&) {
  std::string line = "at most " + std::to_string(guard.max_active) +
                     " other active backend(s) on " + guard.db.name;
  if (!guard.ignore_applications.empty()) {
    line += ", ignoring applications:";
    for (const auto& a : guard.ignore_applications) line += " " + a;
  }
  return {line};
}

}  // namespace runbook
