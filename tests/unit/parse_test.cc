#include "engine/parse.h"

#include <gtest/gtest.h>

#include "engine/yaml_parse.h"
#include "steps/backup_fresh.h"
#include "steps/cancel_queries.h"
#include "steps/command.h"
#include "steps/copy_rows.h"
#include "steps/manual.h"
#include "steps/migrations_applied.h"
#include "steps/postgres_idle.h"
#include "steps/registry.h"
#include "steps/run.h"
#include "steps/sql.h"
#include "steps/sql_guard.h"

#include <fstream>
#include <sstream>

namespace runbook {
namespace {

std::string Errors(const Diagnostics& d) {
  std::string out;
  for (const Diagnostic& e : d.errors()) out += e.ToString() + "\n";
  return out;
}

Runbook Load(const std::string& text) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("rb.yaml", text, BuiltinKinds(), &d);
  EXPECT_TRUE(rb.has_value()) << Errors(d);
  EXPECT_TRUE(d.ok()) << Errors(d);
  return rb ? std::move(*rb) : Runbook{};
}

std::string LoadErrors(const std::string& text) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("rb.yaml", text, BuiltinKinds(), &d);
  EXPECT_FALSE(rb.has_value());
  EXPECT_FALSE(d.ok());
  return Errors(d);
}

// A runbook with one step made of `step` (indented by 4).
std::string WithStep(const std::string& step) {
  return "name: t\nsteps:\n  - id: s\n" + step;
}

TEST(ParseRunbookTest, TheFormatExampleLoads) {
  std::ifstream in(std::string(RUNBOOK_SOURCE_DIR) + "/tests/unit/testdata/format_example.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  Runbook rb = Load(ss.str());
  EXPECT_EQ(rb.name, "clone-prod");
  EXPECT_EQ(rb.path, "rb.yaml");
  ASSERT_EQ(rb.params.size(), 3u);
  EXPECT_EQ(rb.params[0].name, "sample_every");
  EXPECT_EQ(rb.params[0].type, ParamType::kInteger);
  EXPECT_EQ(rb.params[0].default_value, "500");
  EXPECT_EQ(rb.params[0].description, "keep every Nth waveform file");
  EXPECT_EQ(rb.params[2].default_value, "false");
  ASSERT_EQ(rb.secrets.size(), 1u);
  EXPECT_EQ(rb.secrets[0].source, Secret::Source::kEnv);
  EXPECT_EQ(rb.secrets[0].ref, "JANE_DEV_PASSWORD");
  ASSERT_EQ(rb.hosts.size(), 3u);  // prod, dev, and the implicit local
  EXPECT_EQ(rb.hosts[0].ssh, "jane@jane.example.org");
  EXPECT_TRUE(rb.hosts[1].local);
  EXPECT_EQ(rb.hosts[2].name, "local");
  ASSERT_EQ(rb.databases.size(), 2u);
  EXPECT_EQ(rb.databases[0].tunnel->name, "prod");
  EXPECT_EQ(rb.databases[1].password->raw, "${{ secrets.dev_password }}");
  EXPECT_EQ(rb.defaults.timeout, std::chrono::minutes(30));
  ASSERT_EQ(rb.steps.size(), 8u);

  const Step& sizes = rb.steps[0];
  EXPECT_EQ(sizes.id, "table-sizes");
  const auto& sql = dynamic_cast<const SqlStep&>(*sizes.kind);
  EXPECT_EQ(sql.db.name, "prod");
  EXPECT_EQ(sql.show, ShowMode::kTable);

  const Step& dump = rb.steps[1];
  EXPECT_EQ(dump.needs.at(0).name, "table-sizes");
  EXPECT_EQ(dump.host->name, "prod");
  EXPECT_EQ(dump.user->raw, "postgres");
  EXPECT_TRUE(dynamic_cast<const RunStep&>(*dump.kind).command.shell);
  EXPECT_EQ(dump.env.at(0).first, "WORKDIR");
  EXPECT_EQ(dump.timeout, std::chrono::hours(2));
  EXPECT_EQ(dump.retries, 1);
  EXPECT_TRUE(dump.idempotent);

  EXPECT_EQ(rb.steps[2].confirm->raw, "Drops the development database jane: all its data is lost.");
  const auto& sample = dynamic_cast<const CopyRowsStep&>(*rb.steps[3].kind);
  EXPECT_EQ(sample.every->raw, "${{ params.sample_every }}");
  EXPECT_EQ(sample.limit->raw, "10000");
  const auto& traces = dynamic_cast<const CopyRowsStep&>(*rb.steps[4].kind);
  EXPECT_EQ(traces.match->column, "file_id");
  EXPECT_EQ(traces.match->step.name, "sample-files");
  EXPECT_EQ(traces.match->parent_column, "id");

  const Step& migrate = rb.steps[5];
  ASSERT_EQ(migrate.guards.size(), 2u);
  EXPECT_EQ(dynamic_cast<const PostgresIdleGuard&>(*migrate.guards[0].kind).db.name, "dev");
  EXPECT_EQ(migrate.guards[0].wait, std::chrono::minutes(5));
  const auto& backup = dynamic_cast<const BackupFreshGuard&>(*migrate.guards[1].kind);
  EXPECT_EQ(backup.min_size->raw, "1MB");
  EXPECT_EQ(rb.steps[6].if_expr->raw, "${{ params.reindex }}");
  EXPECT_EQ(dynamic_cast<const ManualStep&>(*rb.steps[7].kind).text.raw.substr(0, 4), "Open");
  ASSERT_EQ(rb.finally.size(), 1u);
  EXPECT_TRUE(rb.finally[0].in_finally);
  EXPECT_FALSE(rb.steps[0].in_finally);
}

TEST(ParseRunbookTest, StepLocations) {
  Runbook rb = Load(WithStep("    run: echo\n"));
  EXPECT_EQ(rb.steps[0].loc.line, 3);
  EXPECT_EQ(rb.steps[0].loc.col, 9);
  EXPECT_EQ(rb.steps[0].kind_loc.line, 4);
  EXPECT_EQ(rb.steps[0].kind_loc.col, 5);
}

TEST(ParseRunbookTest, RunListIsArgv) {
  Runbook rb = Load(WithStep("    run: [pg_dump, --file, \"${{ params.out }}\"]\n"));
  const Command& c = dynamic_cast<const RunStep&>(*rb.steps[0].kind).command;
  EXPECT_FALSE(c.shell);
  ASSERT_EQ(c.words.size(), 3u);
  EXPECT_EQ(c.words[2].raw, "${{ params.out }}");
}

TEST(ParseRunbookTest, AllStepAndGuardFields) {
  Runbook rb = Load(R"(name: all-fields
defaults: {host: prod, timeout: 1h, retries: 2}
hosts:
  prod: {ssh: jane@prod, port: 2222, identity_file: ~/.ssh/id, options: [StrictHostKeyChecking=no]}
  box: {ssh: box, options: {ConnectTimeout: "5"}, multiplex: false}
secrets:
  pw: {file: /etc/pw}
steps:
  - id: c
    description: cancel
    cancel_queries: {db: prod, older_than: 10m, read_only: false, application_name: cron}
    done_when:
      - sql: {db: prod, query: "SELECT 1", expect_rows: 0}
        on_fail: warn
    verify:
      - command: test -f /x
      - command: {run: [test, -d, /y], host: prod}
        on_fail: skip
  - id: m
    needs: c
    sql: {db: prod, file: q.sql, expect: "3"}
    guards:
      - migrations_applied: {db: prod, django: {manage: /src/manage.py, python: /venv/bin/python}}
      - migrations_applied: {db: prod, migrations_dir: /src/app/migrations}
      - backup_fresh: {path: "/b/*.dump", max_age: 24h, min_size: 512KiB, verify: "pg_restore --list", host: prod}
      - postgres_idle: {db: prod, max_active: 2, ignore_applications: [psql, cron]}
      - sql: {db: prod, query: "SELECT true"}
  - id: copy
    copy_rows: {from: a, to: b, table: t, columns: [id, name], where: "id > 3", order_by: id, every: 10, truncate: true, foreign_keys: after_copy}
  - id: copy-default
    copy_rows: {from: a, to: b, table: t}
)");
  EXPECT_EQ(rb.defaults.host.name, "prod");
  EXPECT_EQ(rb.defaults.timeout, std::chrono::hours(1));
  EXPECT_EQ(rb.defaults.retries, 2);
  EXPECT_EQ(rb.hosts[0].port, 2222);
  EXPECT_EQ(rb.hosts[0].options, std::vector<std::string>{"StrictHostKeyChecking=no"});
  EXPECT_EQ(rb.hosts[1].options, std::vector<std::string>{"ConnectTimeout=5"});
  EXPECT_TRUE(rb.hosts[0].multiplex);
  EXPECT_FALSE(rb.hosts[1].multiplex);
  EXPECT_EQ(rb.secrets[0].source, Secret::Source::kFile);
  const auto& cancel = dynamic_cast<const CancelQueriesStep&>(*rb.steps[0].kind);
  EXPECT_FALSE(cancel.read_only);
  EXPECT_EQ(cancel.older_than->raw, "10m");
  EXPECT_EQ(cancel.application_name->raw, "cron");
  ASSERT_EQ(rb.steps[0].done_when.size(), 1u);
  EXPECT_EQ(rb.steps[0].done_when[0].on_fail, OnFail::kWarn);
  EXPECT_EQ(dynamic_cast<const SqlGuard&>(*rb.steps[0].done_when[0].kind).expect_rows, 0);
  ASSERT_EQ(rb.steps[0].verify.size(), 2u);
  EXPECT_TRUE(dynamic_cast<const CommandGuard&>(*rb.steps[0].verify[0].kind).command.shell);
  const auto& cmd = dynamic_cast<const CommandGuard&>(*rb.steps[0].verify[1].kind);
  EXPECT_FALSE(cmd.command.shell);
  EXPECT_EQ(cmd.host->name, "prod");
  EXPECT_EQ(rb.steps[0].verify[1].on_fail, OnFail::kSkip);
  EXPECT_EQ(rb.steps[1].needs.at(0).name, "c");
  const auto& sql = dynamic_cast<const SqlStep&>(*rb.steps[1].kind);
  EXPECT_EQ(sql.file->raw, "q.sql");
  EXPECT_EQ(sql.expect->raw, "3");
  const auto& guards = rb.steps[1].guards;
  ASSERT_EQ(guards.size(), 5u);
  EXPECT_EQ(dynamic_cast<const MigrationsAppliedGuard&>(*guards[0].kind).django->python->raw,
            "/venv/bin/python");
  EXPECT_EQ(dynamic_cast<const MigrationsAppliedGuard&>(*guards[1].kind).migrations_dir->raw,
            "/src/app/migrations");
  const auto& backup = dynamic_cast<const BackupFreshGuard&>(*guards[2].kind);
  EXPECT_EQ(backup.verify->words.at(0).raw, "pg_restore --list");
  EXPECT_EQ(backup.host->name, "prod");
  const auto& idle = dynamic_cast<const PostgresIdleGuard&>(*guards[3].kind);
  EXPECT_EQ(idle.max_active, 2);
  EXPECT_EQ(idle.ignore_applications, (std::vector<std::string>{"psql", "cron"}));
  EXPECT_FALSE(dynamic_cast<const SqlGuard&>(*guards[4].kind).expect.has_value());
  EXPECT_EQ(guards[4].loc.line, 27);
  const auto& copy = dynamic_cast<const CopyRowsStep&>(*rb.steps[2].kind);
  EXPECT_EQ(copy.columns.size(), 2u);
  EXPECT_TRUE(copy.truncate);
  EXPECT_EQ(copy.where->raw, "id > 3");
  EXPECT_EQ(copy.foreign_keys, ForeignKeyCheck::kAfterCopy);
  EXPECT_EQ(dynamic_cast<const CopyRowsStep&>(*rb.steps[3].kind).foreign_keys,
            ForeignKeyCheck::kPerRow);
}

TEST(ParseRunbookTest, UnknownKeysEverywhere) {
  EXPECT_EQ(LoadErrors(R"(name: t
stepz: []
params:
  p: {type: string, defualt: x}
hosts:
  h: {ssh: h, prot: 22}
databases:
  d: {conninfo: x, pasword: y}
steps:
  - id: s
    run: x
    nedds: [a]
    guards:
      - postgres_idel: {db: d}
      - postgres_idle: {db: d, max_activ: 1}
        wiat: 5m
)"),
            "rb.yaml:2:1: unknown key 'stepz' in the runbook (did you mean 'steps'?)\n"
            "rb.yaml:4:21: unknown key 'defualt' in param 'p' (did you mean 'default'?)\n"
            "rb.yaml:6:15: unknown key 'prot' in host 'h' (did you mean 'port'?)\n"
            "rb.yaml:8:20: unknown key 'pasword' in database 'd' (did you mean 'password'?)\n"
            "rb.yaml:12:5: unknown key 'nedds' in step 's' (did you mean 'needs'?)\n"
            "rb.yaml:14:9: unknown key 'postgres_idel' in guard #1 in 'guards' of step 's' (did "
            "you mean 'postgres_idle'?)\n"
            "rb.yaml:15:32: unknown key 'max_activ' in 'postgres_idle' guard of step 's' (did you "
            "mean 'max_active'?)\n"
            "rb.yaml:16:9: unknown key 'wiat' in guard #2 in 'guards' of step 's' (did you mean "
            "'wait'?)\n");
}

TEST(ParseRunbookTest, StepKinds) {
  EXPECT_EQ(LoadErrors(WithStep("    description: nothing\n")),
            "rb.yaml:3:5: step 's' has no kind: add one of run, sql, copy_rows, cancel_queries or "
            "manual\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: a\n    manual: b\n")),
            "rb.yaml:5:5: step 's' has two kinds, 'run' and 'manual': keep one\n");
  // A misspelt kind gets the suggestion, not also "no kind".
  EXPECT_EQ(LoadErrors(WithStep("    rum: a\n")),
            "rb.yaml:4:5: unknown key 'rum' in step 's' (did you mean 'run'?)\n");
}

TEST(ParseRunbookTest, GuardKindsAndOptions) {
  EXPECT_EQ(LoadErrors(WithStep("    run: a\n    guards:\n      - wait: 5m\n      - "
                                "command: x\n        on_fail: ignore\n      - command: y\n        "
                                "sql: {db: d, query: q}\n")),
            "rb.yaml:6:9: guard #1 in 'guards' of step 's' has no kind: add one of "
            "postgres_idle, migrations_applied, backup_fresh, sql or command\n"
            "rb.yaml:8:18: 'on_fail' must be abort, skip or warn, got 'ignore'\n"
            "rb.yaml:10:9: guard #3 in 'guards' of step 's' has two kinds, 'command' and 'sql': "
            "keep one\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: a\n    guards: {command: x}\n")),
            "rb.yaml:5:13: expected a list of guards for 'guards' of step 's', got a mapping\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: a\n    verify: [command: x, on_fail: skp]\n")),
            "rb.yaml:5:26: guard #2 in 'verify' of step 's' has no kind: add one of "
            "postgres_idle, migrations_applied, backup_fresh, sql or command\n"
            "rb.yaml:5:35: 'on_fail' must be abort, skip or warn, got 'skp' (did you mean "
            "'skip'?)\n");
}

TEST(ParseRunbookTest, NamesAndIds) {
  EXPECT_EQ(LoadErrors("name: Bad_Name\nsteps:\n  - id: -x\n    run: a\n  - id: Y\n    run: b\n"),
            "rb.yaml:1:7: invalid runbook name 'Bad_Name': use lower-case letters, digits and "
            "'-', starting with a letter or digit\n"
            "rb.yaml:3:9: invalid step id '-x': use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit\n"
            "rb.yaml:5:9: invalid step id 'Y': use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit\n");
  EXPECT_EQ(LoadErrors("name: t\nsteps:\n  - run: a\n"),
            "rb.yaml:3:5: step #1 of 'steps' has no 'id'\n");
  EXPECT_EQ(LoadErrors("steps:\n  - {id: a, run: b}\n"),
            "rb.yaml:1:1: missing required key 'name' in the runbook\n");
}

TEST(ParseRunbookTest, EmptyAndMissingSteps) {
  EXPECT_EQ(LoadErrors("name: t\nsteps: []\n"),
            "rb.yaml:2:8: 'steps' is empty: a runbook needs at least one step\n");
  EXPECT_EQ(LoadErrors("name: t\nsteps:\n"),
            "rb.yaml:2:7: 'steps' is empty: a runbook needs at least one step\n");
  EXPECT_EQ(LoadErrors("name: t\n"), "rb.yaml:1:1: missing required key 'steps' in the runbook\n");
  EXPECT_EQ(LoadErrors(""),
            "rb.yaml:1:1: the runbook is empty: it needs at least 'name' and 'steps'\n");
  EXPECT_EQ(LoadErrors("- a\n"),
            "rb.yaml:1:1: expected a mapping for the runbook, got a sequence\n");
  EXPECT_EQ(LoadErrors("name: t\nsteps: {a: b}\n"),
            "rb.yaml:2:8: expected a list of steps for 'steps', got a mapping\n");
  EXPECT_EQ(LoadErrors("name: t\nsteps: [x]\n"),
            "rb.yaml:2:9: expected a step (a mapping with an id and a kind) for step #1 of "
            "'steps', got a string\n");
}

TEST(ParseRunbookTest, FieldTypes) {
  EXPECT_EQ(
      LoadErrors(WithStep("    run: a\n    timeout: 5 minutes\n    retries: -1\n    "
                          "idempotent: yes\n    env: {A: [x], 1B: y}\n    needs: {a: b}\n")),
      "rb.yaml:5:14: 'timeout': '5 minutes' is not a duration: use e.g. 500ms, 90s, 5m, 2h, "
      "1h30m, 1d\n"
      "rb.yaml:6:14: 'retries' must be between 0 and 100, got -1\n"
      "rb.yaml:7:17: expected true or false for 'idempotent', got 'yes'\n"
      "rb.yaml:8:14: expected a string for 'env.A', got a sequence\n"
      "rb.yaml:8:19: invalid environment variable name '1B': use letters, digits and '_', not "
      "starting with a digit\n"
      "rb.yaml:9:12: expected a list of strings for 'needs', got a mapping\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: a\n    timeout: 0s\n")),
            "rb.yaml:5:14: 'timeout' must be longer than 0s\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: []\n")), "rb.yaml:4:10: 'run' is an empty argv list\n");
  EXPECT_EQ(LoadErrors(WithStep("    run: {a: b}\n")),
            "rb.yaml:4:10: expected a command (a string, or a list of strings for an argv) for "
            "'run', got a mapping\n");
}

TEST(ParseRunbookTest, KindFieldChecks) {
  EXPECT_EQ(LoadErrors(WithStep("    sql: {db: d}\n")),
            "rb.yaml:4:10: 'sql' of step 's' needs 'query' or 'file'\n");
  EXPECT_EQ(LoadErrors(WithStep("    sql: {db: d, query: q, file: f, show: tables}\n")),
            "rb.yaml:4:28: 'sql' of step 's' has both 'query' and 'file': keep one\n"
            "rb.yaml:4:43: 'show' must be table or none, got 'tables' (did you mean 'table'?)\n");
  EXPECT_EQ(LoadErrors(WithStep("    sql: {query: q}\n")),
            "rb.yaml:4:10: missing required key 'db' in 'sql' of step 's'\n");
  EXPECT_EQ(LoadErrors(WithStep("    copy_rows: {from: a, to: b, table: t, every: 0, limit: x, "
                                "match: {column: c}}\n")),
            "rb.yaml:4:43: 'every' needs 'order_by' in 'copy_rows' of step 's': rows are kept "
            "every Nth in that order\n"
            "rb.yaml:4:50: 'every': expected a positive integer, got '0'\n"
            "rb.yaml:4:60: 'limit': expected a positive integer, got 'x'\n"
            "rb.yaml:4:70: missing required key 'step' in 'match' of step 's'\n"
            "rb.yaml:4:70: missing required key 'parent_column' in 'match' of step 's'\n");
  EXPECT_EQ(LoadErrors(WithStep("    copy_rows: {from: a, to: b, table: t, foreign_keys: off}\n")),
            "rb.yaml:4:57: 'foreign_keys' must be per_row or after_copy, got 'off'\n");
  EXPECT_EQ(LoadErrors(WithStep("    copy_rows: {from: a, to: b, table: t, foreign_keys: "
                                "after-copy}\n")),
            "rb.yaml:4:57: 'foreign_keys' must be per_row or after_copy, got 'after-copy' (did "
            "you mean 'after_copy'?)\n");
  EXPECT_EQ(LoadErrors(WithStep("    cancel_queries: {db: d, older_than: 5 min}\n")),
            "rb.yaml:4:41: 'older_than': '5 min' is not a duration: use e.g. 500ms, 90s, 5m, 2h, "
            "1h30m, 1d\n");
  EXPECT_EQ(LoadErrors(WithStep("    manual: \"\"\n")),
            "rb.yaml:4:13: 'manual' needs the text to show to the operator\n");
}

TEST(ParseRunbookTest, GuardFieldChecks) {
  const std::string g = "    run: a\n    guards:\n";
  EXPECT_EQ(
      LoadErrors(WithStep(g + "      - backup_fresh: {path: p, max_age: 1 day, min_size: 1 GB}\n")),
      "rb.yaml:6:42: 'max_age': '1 day' is not a duration: use e.g. 500ms, 90s, 5m, 2h, "
      "1h30m, 1d\n"
      "rb.yaml:6:59: 'min_size': '1 GB' is not a size (unknown unit ' GB'): use e.g. 123, "
      "512KiB, 1MB, 10GB\n");
  EXPECT_EQ(LoadErrors(WithStep(g + "      - migrations_applied: {db: d}\n")),
            "rb.yaml:6:29: 'migrations_applied' guard of step 's' needs 'django: {manage: PATH}' "
            "(ask Django) or 'migrations_dir' (compare files with django_migrations)\n");
  EXPECT_EQ(
      LoadErrors(WithStep(g + "      - sql: {db: d, query: q, expect: 1, expect_rows: 1}\n")),
      "rb.yaml:6:43: 'sql' guard of step 's' has both 'expect' and 'expect_rows': keep one\n");
  EXPECT_EQ(LoadErrors(WithStep(g + "      - command: {host: h}\n")),
            "rb.yaml:6:18: missing required key 'run' in 'command' guard of step 's'\n");
}

TEST(ParseRunbookTest, GuardHostBesideTheKind) {
  const std::string g = "    run: a\n    guards:\n";
  Runbook rb = Load(WithStep(g + "      - command: test -f /x\n        host: prod\n"
                                 "      - backup_fresh: {path: /b}\n        host: prod\n"));
  EXPECT_EQ(dynamic_cast<const CommandGuard&>(*rb.steps[0].guards[0].kind).host->name, "prod");
  EXPECT_EQ(dynamic_cast<const BackupFreshGuard&>(*rb.steps[0].guards[1].kind).host->name, "prod");
  EXPECT_EQ(LoadErrors(WithStep(g + "      - postgres_idle: {db: d}\n        host: prod\n"
                                    "      - command: {run: x, host: a}\n        host: b\n")),
            "rb.yaml:7:9: 'host' applies only to backup_fresh and command guards, not "
            "postgres_idle\n"
            "rb.yaml:9:9: 'host' is given twice for this guard: keep one\n");
}

TEST(ParseRunbookTest, ParamsSecretsHostsDatabases) {
  EXPECT_EQ(LoadErrors(R"(name: t
params:
  a: {type: int}
  b: {type: integer, default: many}
  c: {type: boolean, default: yes}
  d-e: {type: string}
  f: {type: duration, default: 5 minutes}
secrets:
  s1: {env: A, file: /b}
  s2: {}
  s3: {env: "A B"}
hosts:
  local: {ssh: me@there}
  h1: {ssh: "-oProxyCommand=x"}
  h2: {local: true, port: 22, multiplex: false}
  h3: {local: false}
  h4: {}
databases:
  db1: {password: x}
  db2: "host=x"
steps:
  - {id: s, run: a}
)"),
            "rb.yaml:3:13: unknown type 'int' for param 'a' (did you mean 'integer'?): use one of "
            "string, integer, number, "
            "boolean, path or duration\n"
            "rb.yaml:4:31: default 'many' does not fit: param 'b' is an integer\n"
            "rb.yaml:5:31: default 'yes' does not fit: param 'c' is a boolean (true or false)\n"
            "rb.yaml:6:3: invalid param name 'd-e': use letters, digits and '_', not starting "
            "with a digit\n"
            "rb.yaml:7:32: default '5 minutes' does not fit: param 'f' is a duration (e.g. 90s, "
            "5m, 2h)\n"
            "rb.yaml:9:16: secret 's1' has both 'env' and 'file': keep one\n"
            "rb.yaml:10:7: secret 's2' needs 'env: VARIABLE' or 'file: PATH'\n"
            "rb.yaml:11:13: invalid environment variable name 'A B' in secret 's3'\n"
            "rb.yaml:13:3: host 'local' is reserved for this machine: it can only be {local: "
            "true}\n"
            "rb.yaml:14:13: invalid ssh destination '-oProxyCommand=x': expected user@host or "
            "host\n"
            "rb.yaml:15:21: 'port' applies only to ssh hosts, and host 'h2' is local\n"
            "rb.yaml:15:31: 'multiplex' applies only to ssh hosts, and host 'h2' is local\n"
            "rb.yaml:16:15: 'local' can only be true; for a remote host use 'ssh'\n"
            "rb.yaml:17:7: host 'h4' needs 'ssh: user@host' or 'local: true'\n"
            "rb.yaml:19:8: missing required key 'conninfo' in database 'db1'\n"
            "rb.yaml:20:8: expected a mapping for database 'db2', got a string\n");
}

TEST(ParseRunbookTest, ErrorsFromAllStepsInOnePass) {
  EXPECT_EQ(LoadErrors("name: t\nsteps:\n  - {id: a, rn: x}\n  - {id: b, run: x, timeout: x}\n"
                       "finally:\n  - {id: c}\nextra: 1\n"),
            "rb.yaml:3:13: unknown key 'rn' in step 'a' (did you mean 'run'?)\n"
            "rb.yaml:4:30: 'timeout': 'x' is not a duration: use e.g. 500ms, 90s, 5m, 2h, 1h30m, "
            "1d\n"
            "rb.yaml:6:5: step 'c' has no kind: add one of run, sql, copy_rows, cancel_queries or "
            "manual\n"
            "rb.yaml:7:1: unknown key 'extra' in the runbook; valid keys: name, description, lock, "
            "params, secrets, hosts, databases, defaults, downtime, steps, finally\n");
}

TEST(ParseRunbookTest, DuplicateKeysDoNotHideOtherErrors) {
  EXPECT_EQ(
      LoadErrors("name: t\nsteps:\n  - id: a\n    run: x\n    run: y\n  - id: b\n    rn: z\n"),
      "rb.yaml:5:5: duplicate key 'run' (first at 4:5)\n"
      "rb.yaml:7:5: unknown key 'rn' in step 'b' (did you mean 'run'?)\n");
}

TEST(ParseInventoryTest, ParsesAndApplies) {
  Diagnostics d;
  std::optional<Inventory> inv =
      ParseInventory("inv.yaml",
                     "hosts: {prod: {ssh: jane@10.0.0.5}, dev: {local: true}}\n"
                     "databases: {prod: {conninfo: \"service=jane-prod\"}, extra: {conninfo: x}}\n"
                     "params: {sample_every: 1000}\n",
                     &d);
  ASSERT_TRUE(inv.has_value()) << Errors(d);
  ASSERT_EQ(inv->params.size(), 1u);
  EXPECT_EQ(inv->params[0].first.name, "sample_every");
  EXPECT_EQ(inv->params[0].second, "1000");
  EXPECT_EQ(inv->params[0].first.loc.line, 3);

  Runbook rb = Load(
      "name: t\nhosts: {prod: {ssh: old}, other: {ssh: o}}\n"
      "databases: {prod: {conninfo: old}}\nsteps: [{id: a, run: x}]\n");
  ApplyInventory(*inv, &rb);
  ASSERT_EQ(rb.hosts.size(), 4u);  // prod (replaced), other, local, dev (added)
  EXPECT_EQ(rb.hosts[0].ssh, "jane@10.0.0.5");
  EXPECT_EQ(rb.hosts[0].loc.file, "inv.yaml");
  EXPECT_EQ(rb.hosts[1].name, "other");
  EXPECT_EQ(rb.hosts[3].name, "dev");
  ASSERT_EQ(rb.databases.size(), 2u);
  EXPECT_EQ(rb.databases[0].conninfo.raw, "service=jane-prod");
  EXPECT_EQ(rb.databases[1].name, "extra");
}

TEST(ParseInventoryTest, Errors) {
  Diagnostics d;
  EXPECT_FALSE(
      ParseInventory("inv.yaml", "hostz: {}\nparams: {a: [1]}\nhosts: {x: {sh: y}}\n", &d));
  EXPECT_EQ(Errors(d),
            "inv.yaml:1:1: unknown key 'hostz' in the inventory (did you mean 'hosts'?)\n"
            "inv.yaml:2:13: expected a string for param 'a', got a sequence\n"
            "inv.yaml:3:12: host 'x' needs 'ssh: user@host' or 'local: true'\n"
            "inv.yaml:3:13: unknown key 'sh' in host 'x' (did you mean 'ssh'?)\n");
  Diagnostics empty;
  EXPECT_TRUE(ParseInventory("inv.yaml", "", &empty).has_value());
}

}  // namespace
}  // namespace runbook
