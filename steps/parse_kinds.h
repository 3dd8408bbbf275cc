// Parsers for the value of each step kind key and each guard kind key (one .cc per kind:
// steps/<kind>_parse.cc). engine/parse.cc finds the kind key and calls these.
//
// `owner` names the enclosing step or guard in messages, e.g. "step 'x'". Each parser reports
// every problem it finds into `diags` and returns nullopt when the value is unusable. Literal
// values of fields that may be templated (sizes, durations, counts) are checked now; templated
// ones are left to the template renderer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/diag.h"
#include "engine/doc.h"
#include "engine/model.h"

namespace runbook {

// A command: a string is a shell script, a sequence of strings an argv (no shell). An empty
// script or argv is an error. `what` names the field in messages ("'run'").
std::optional<Command> ParseCommand(const DocNode& value, std::string_view what,
                                    Diagnostics* diags);

// ---- step kinds -----------------------------------------------------------------------------
// run: "script" | [argv...]
std::optional<RunStep> ParseRunStep(const DocNode& value, const std::string& owner,
                                    Diagnostics* diags);
// sql: {db, query | file, show: table|none, expect}
std::optional<SqlStep> ParseSqlStep(const DocNode& value, const std::string& owner,
                                    Diagnostics* diags);
// copy_rows: {from, to, table, columns, where, order_by, every, limit,
//             match: {column, step, parent_column}, truncate}
std::optional<CopyRowsStep> ParseCopyRowsStep(const DocNode& value, const std::string& owner,
                                              Diagnostics* diags);
// cancel_queries: {db, older_than, read_only, application_name}
std::optional<CancelQueriesStep> ParseCancelQueriesStep(const DocNode& value,
                                                        const std::string& owner,
                                                        Diagnostics* diags);
// manual: "text shown to the operator"
std::optional<ManualStep> ParseManualStep(const DocNode& value, const std::string& owner,
                                          Diagnostics* diags);

// ---- guard kinds ----------------------------------------------------------------------------
// postgres_idle: {db, max_active, ignore_applications}
std::optional<PostgresIdleGuard> ParsePostgresIdleGuard(const DocNode& value,
                                                        const std::string& owner,
                                                        Diagnostics* diags);
// migrations_applied: {db, django: {manage, python} | migrations_dir}
std::optional<MigrationsAppliedGuard> ParseMigrationsAppliedGuard(const DocNode& value,
                                                                  const std::string& owner,
                                                                  Diagnostics* diags);
// backup_fresh: {path, max_age, min_size, verify, host}
std::optional<BackupFreshGuard> ParseBackupFreshGuard(const DocNode& value,
                                                      const std::string& owner, Diagnostics* diags);
// sql: {db, query, expect | expect_rows}
std::optional<SqlGuard> ParseSqlGuard(const DocNode& value, const std::string& owner,
                                      Diagnostics* diags);
// command: "script" | [argv...] | {run: "script" | [argv...], host}
// (engine/parse.cc also accepts `host` beside the kind key, for command and backup_fresh.)
std::optional<CommandGuard> ParseCommandGuard(const DocNode& value, const std::string& owner,
                                              Diagnostics* diags);

}  // namespace runbook
