// Helpers shared by the SQL step and guard kinds (sql, copy_rows, cancel_queries, postgres_idle,
// migrations_applied, sql guard): report formatting and read-only evaluation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"
#include "engine/pg.h"

namespace runbook {

// A query text on one line (runs of whitespace become one space), cut to `max` bytes with "...".
std::string OneLine(std::string_view text, size_t max = 200);

// "0.4 s", "12 s", "3 min 5 s".
std::string FormatSeconds(double seconds);
// "512 B", "1.2 kB", "3.4 MB", "1.1 GB" (decimal units, like pg_size_pretty's spirit).
std::string FormatBytes(int64_t bytes);

// A duration as the runbook writes it ("90s", "5m", "2h", "1d", "500ms", "1h30m", or a bare
// number of seconds) in seconds.
Result<double> ParseDurationSeconds(std::string_view text);

// A PostgreSQL array literal of text values, every element quoted: {"a","b \"c\""}. Bind it
// as $n::text[] (or any element type: $n::bigint[]).
std::string TextArrayLiteral(const std::vector<std::string>& values);

// Runs `sql`, one statement, inside BEGIN READ ONLY ... ROLLBACK: what guards use, so that
// evaluating them (also in plans and dry runs) can never change the database.
Result<PgResult> ExecReadOnly(PgConnection& conn, std::string_view sql,
                              const std::vector<std::string>& params = {});

// Backends other than ours: the condition (on pg_stat_activity) shared by postgres_idle and
// cancel_queries. $1 is our run's application_name prefix (RunApplicationPrefix).
inline constexpr const char* kNotOurs =
    "pid <> pg_backend_pid() AND datname = current_database() AND "
    "backend_type = 'client backend' AND "
    "left(coalesce(application_name, ''), length($1)) IS DISTINCT FROM $1";

}  // namespace runbook
