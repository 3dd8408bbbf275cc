#include "engine/validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/parse.h"
#include "steps/manual.h"
#include "steps/registry.h"
#include "steps/run.h"
#include "steps/sql.h"

namespace runbook {
namespace {

// The header every test runbook starts with (6 lines), so line numbers below are stable.
const char* kHeader =
    "name: t\n"
    "params: {sample_every: {type: integer, default: 500}, workdir: {type: path, default: /tmp}}\n"
    "secrets: {dev_password: {env: JANE_DEV_PASSWORD}}\n"
    "hosts: {prod: {ssh: jane@prod}}\n"
    "databases: {prod: {conninfo: 'dbname=jane', tunnel: prod}, dev: {conninfo: 'dbname=dev'}}\n"
    "steps:\n";

// Parses (which must succeed), validates, and returns the errors as "LINE:COL: message".
std::vector<std::string> Errors(const std::string& steps) {
  Diagnostics parse_diags;
  std::optional<Runbook> rb = ParseRunbook("v.yaml", kHeader + steps, BuiltinKinds(), &parse_diags);
  EXPECT_TRUE(rb.has_value()) << (parse_diags.ok() ? "" : parse_diags.errors()[0].ToString());
  if (!rb) return {"parse failed"};
  Diagnostics diags;
  ValidateRunbook(*rb, &diags);
  diags.SortByLocation();
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.errors()) {
    out.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message);
  }
  return out;
}

using Lines = std::vector<std::string>;

Host LocalHost() {
  Host h;
  h.name = "local";
  h.local = true;
  return h;
}

TEST(ValidateTest, AValidRunbookHasNoErrors) {
  EXPECT_EQ(Errors("  - id: sizes\n"                                                    // 7
                   "    sql: {db: prod, query: 'SELECT ${{ params.sample_every }}'}\n"  // 8
                   "  - id: dump\n"                                                     // 9
                   "    needs: [sizes]\n"                                               // 10
                   "    host: prod\n"                                                   // 11
                   "    if: ${{ steps.sizes.outcome == 'success' }}\n"                  // 12
                   "    run: [pg_dump, --file, '${{ params.workdir }}/x.sql']\n"        // 13
                   "    env: {PGPASSWORD: '${{ secrets.dev_password }}'}\n"             // 14
                   "  - id: files\n"                                                    // 15
                   "    needs: [dump]\n"                                                // 16
                   "    copy_rows: {from: prod, to: dev, table: f, order_by: id}\n"     // 17
                   "  - id: traces\n"                                                   // 18
                   "    needs: [files]\n"                                               // 19
                   "    copy_rows: {from: prod, to: dev, table: t, match: {column: file_id, "
                   "step: files, parent_column: id}}\n"
                   "    guards:\n"
                   "      - command: {run: [test, -d, '${{ run.dir }}'], host: prod}\n"
                   "finally:\n"
                   "  - id: notify\n"
                   "    if: steps.traces.outcome != 'success'\n"
                   "    run: [echo, failed, '${{ run.id }}', '${{ databases.prod.conninfo }}']\n"),
            Lines{});
}

TEST(ValidateTest, DuplicateIdsAcrossStepsAndFinally) {
  EXPECT_EQ(Errors("  - id: a\n"
                   "    run: 'true'\n"
                   "  - id: a\n"
                   "    run: 'true'\n"
                   "finally:\n"
                   "  - id: a\n"
                   "    run: 'true'\n"),
            (Lines{"9:9: duplicate step id 'a' (first at 7:9)",
                   "12:9: duplicate step id 'a' (first at 7:9)"}));
}

TEST(ValidateTest, Needs) {
  EXPECT_EQ(
      Errors("  - id: dump-small\n"                                             // 7
             "    run: 'true'\n"                                                // 8
             "  - id: load\n"                                                   // 9
             "    needs: [dump-smal, load, dump-small, dump-small, cleanup]\n"  // 10
             "    run: 'true'\n"                                                // 11
             "finally:\n"                                                       // 12
             "  - id: cleanup\n"                                                // 13
             "    needs: [load, cleanup, later]\n"                              // 14
             "    run: 'true'\n"
             "  - id: later\n"
             "    run: 'true'\n"),
      (Lines{"10:13: needs unknown step 'dump-smal' (did you mean 'dump-small'?)",
             "10:24: step 'load' needs itself", "10:42: 'dump-small' is listed twice in needs",
             "10:54: step 'load' needs 'cleanup', a finally step: finally steps run after "
             "all steps",
             "14:19: step 'cleanup' needs itself",
             "14:28: finally step 'cleanup' needs 'later', which comes after it: finally "
             "steps run in file order"}));
}

TEST(ValidateTest, CyclesAreReportedOnce) {
  EXPECT_EQ(Errors("  - id: a\n"
                   "    needs: [c]\n"
                   "    run: 'true'\n"
                   "  - id: b\n"
                   "    needs: [a]\n"
                   "    run: 'true'\n"
                   "  - id: c\n"
                   "    needs: [b]\n"
                   "    run: 'true'\n"
                   // Indirect needs are still checked when there is a cycle.
                   "  - id: d\n"
                   "    needs: [a]\n"
                   "    if: steps.b.outcome\n"
                   "    run: 'true'\n"
                   "  - id: e\n"
                   "    if: steps.a.outcome\n"
                   "    run: 'true'\n"),
            (Lines{"8:13: dependency cycle: a -> c -> b -> a",
                   "21:9: step 'e' uses steps.a.outcome but does not need a"}));
}

TEST(ValidateTest, UnknownNamesInTemplatesWithSuggestions) {
  // Each error points at the reference inside the string.
  EXPECT_EQ(Errors("  - id: a\n"
                   "    manual: echo ${{ params.sampel_every }} ${{ secrets.dev_pasword }}\n"
                   "    env: {X: '${{ databases.prd.conninfo }}', Y: '${{ steps.b.outcome }}'}\n"
                   "    cwd: ${{ params.nothing_like_it }}\n"),
            (Lines{"8:22: unknown param 'sampel_every' in ${{ params.sampel_every }} (did you "
                   "mean 'sample_every'?)",
                   "8:49: unknown secret 'dev_pasword' in ${{ secrets.dev_pasword }} (did you "
                   "mean 'dev_password'?)",
                   "9:19: unknown database 'prd' in ${{ databases.prd.conninfo }} (did you mean "
                   "'prod'?)",
                   "9:55: unknown step 'b' in ${{ steps.b.outcome }} (did you mean 'a'?)",
                   "10:14: unknown param 'nothing_like_it' in ${{ params.nothing_like_it }}"}));
}

TEST(ValidateTest, TemplateSyntaxErrorsAndConditions) {
  EXPECT_EQ(
      Errors("  - id: a\n"
             "    if: ${{ params.workdir }} == '/tmp'\n"
             "    manual: echo ${{ params.workdir\n"
             "  - id: b\n"
             "    if: params.sample_every >\n"
             "    manual: Check ${{ param.x }}\n"),
      (Lines{"8:9: a condition is one ${{ }} expression or a bare expression, not text "
             "mixed with ${{ }} (that would be a string, always true)",
             "9:18: '${{' without a closing '}}'", "11:29: unexpected '>' in params.sample_every >",
             "12:23: unknown name 'param' (did you mean 'params'?) (expected params, "
             "secrets, env, run, steps or databases) in ${{ param.x }}"}));
}

TEST(ValidateTest, StepOutcomeNeedsADependency) {
  EXPECT_EQ(Errors("  - id: a\n"                                    // 7
                   "    run: 'true'\n"                              // 8
                   "  - id: b\n"                                    // 9
                   "    needs: [a]\n"                               // 10
                   "    run: 'true'\n"                              // 11
                   "  - id: c\n"                                    // 12
                   "    needs: [b]\n"                               // 13
                   "    if: ${{ steps.a.outcome == 'success' }}\n"  // 14: transitive: ok
                   "    run: 'true'\n"                              // 15
                   "  - id: d\n"                                    // 16
                   "    if: ${{ steps.c.outcome == 'success' }}\n"  // 17: not needed
                   "    manual: echo ${{ steps.d.outcome }}\n"      // 18: itself
                   "finally:\n"                                     // 19
                   "  - id: f1\n"                                   // 20
                   "    if: ${{ steps.d.outcome == 'failure' || steps.f2.outcome }}\n"  // 21
                   "    run: 'true'\n"
                   "  - id: f2\n"
                   "    if: ${{ steps.f1.outcome == 'success' }}\n"
                   "    run: 'true'\n"),
            (Lines{"17:13: step 'd' uses steps.c.outcome but does not need c",
                   "18:22: step 'd' uses steps.d.outcome but does not need d",
                   "21:45: step 'f1' uses steps.f2.outcome but does not need f2"}));
}

TEST(ValidateTest, SecretsNeverOnACommandLine) {
  EXPECT_EQ(
      Errors("  - id: a\n"
             "    run: psql -c 'x' ${{ secrets.dev_password }}\n"
             "    user: ${{ secrets.dev_password }}\n"
             "    guards:\n"
             "      - command: [check, '${{ secrets.dev_password }}']\n"
             "      - backup_fresh: {path: /b, verify: 'ls ${{ secrets.dev_password }}'}\n"
             "  - id: b\n"
             "    run: [psql, '${{ secrets.dev_password }}']\n"
             "    env: {PGPASSWORD: '${{ secrets.dev_password }}'}\n"
             "    confirm: 'uses ${{ secrets.dev_password }}'\n"),
      (Lines{"8:22: ${{ secrets.dev_password }} in the shell text of a run command: a value "
             "never becomes shell code. Pass it through the step's env (env: "
             "{DEV_PASSWORD: \"${{ secrets.dev_password }}\"}) and write \"$DEV_PASSWORD\" "
             "in the command, or use the argv form ([PROGRAM, ARG, ...]: each element is "
             "one argument, no shell)",
             "9:15: secret 'dev_password' in user: it would show in the process list",
             "11:31: secret 'dev_password' in a command guard's command line: pass it "
             "through env, e.g. env: {PGPASSWORD: ...}",
             "12:46: ${{ secrets.dev_password }} in the shell text of a backup_fresh verify "
             "command: a value never becomes shell code. Pass it through the step's env (env: "
             "{DEV_PASSWORD: \"${{ secrets.dev_password }}\"}) and write \"$DEV_PASSWORD\" "
             "in the command, or use the argv form ([PROGRAM, ARG, ...]: each element is "
             "one argument, no shell)",
             "14:22: secret 'dev_password' in a run command line: pass it through env, "
             "e.g. env: {PGPASSWORD: ...}"}));
}

TEST(ValidateTest, NoTemplateInShellText) {
  // Every ${{ }} in shell text is refused, with the env variable to pass it through; an argv
  // keeps its templates (each element one argument).
  EXPECT_EQ(
      Errors("  - id: a\n"                                                            // 7
             "    run: cd ${{ params.workdir }} && echo ${{ env.HOME }}\n"            // 8
             "    guards:\n"                                                          // 9
             "      - command: 'test -d ${{ run.dir }}'\n"                            // 10
             "      - backup_fresh: {path: /b/*.dump, verify: 'pg_restore -l {}'}\n"  // 11
             "      - backup_fresh: {path: /b/*.dump, verify: [pg_restore, -l, '{}']}\n"
             "  - id: b\n"                                                    // 13
             "    run: [ls, '${{ params.workdir }}', '${{ env.HOME }}']\n"),  // 14
      (Lines{"8:13: ${{ params.workdir }} in the shell text of a run command: a value never "
             "becomes shell code. Pass it through the step's env (env: {WORKDIR: "
             "\"${{ params.workdir }}\"}) and write \"$WORKDIR\" in the command, or use "
             "the argv form ([PROGRAM, ARG, ...]: each element is one argument, no shell)",
             "8:43: ${{ env.HOME }} in the shell text of a run command: a value never becomes "
             "shell code. Pass it through the step's env (env: {HOME: \"${{ env.HOME }}\"}) "
             "and write \"$HOME\" in the command, or use the argv form ([PROGRAM, ARG, "
             "...]: each element is one argument, no shell)",
             "10:27: ${{ run.dir }} in the shell text of a command guard's command: a value never "
             "becomes "
             "shell code. Pass it through the step's env (env: {DIR: \"${{ run.dir }}\"}) "
             "and write \"$DIR\" in the command, or use the argv form ([PROGRAM, ARG, "
             "...]: each element is one argument, no shell)",
             "11:64: {} in a backup_fresh verify command: the backup's path is never put "
             "into the command's text; it is in $BACKUP_FILE and the last argument: write "
             "\"$BACKUP_FILE\" instead",
             "12:67: {} in a backup_fresh verify command: the backup's path is never put "
             "into the command's text; it is in $BACKUP_FILE and the last argument: write "
             "\"$BACKUP_FILE\" instead"}));
}

TEST(ValidateTest, SecretsSourceVariablesAreSecretsAndCopyRowsTakesNone) {
  EXPECT_EQ(Errors("  - id: a\n"                                              // 7
                   "    run: [psql, '${{ env.JANE_DEV_PASSWORD }}']\n"        // 8
                   "    env: {PGPASSWORD: '${{ env.JANE_DEV_PASSWORD }}'}\n"  // 9
                   "  - id: b\n"                                              // 10
                   "    copy_rows: {from: prod, to: dev, table: t, where: 'pw = ${{ "
                   "secrets.dev_password }}'}\n"),
            (Lines{"8:22: environment variable 'JANE_DEV_PASSWORD' (a secret's source) in a run "
                   "command line: pass it through env, e.g. env: {PGPASSWORD: ...}",
                   "11:65: secret 'dev_password' in copy_rows: its fields become the statement's "
                   "text (seen in pg_stat_activity and the server's log); filter on a value the "
                   "servers can see without it"}));
}

TEST(ValidateTest, UnknownHostsAndDatabases) {
  EXPECT_EQ(Errors("  - id: a\n"                                                   // 7
                   "    host: prd\n"                                               // 8
                   "    run: 'true'\n"                                             // 9
                   "    guards:\n"                                                 // 10
                   "      - postgres_idle: {db: deev}\n"                           // 11
                   "      - command: {run: 'true',\n"                              // 12
                   "                  host: elsewhere}\n"                          // 13
                   "      - sql: {db: nope, query: SELECT 1}\n"                    // 14
                   "  - id: b\n"                                                   // 15
                   "    sql: {db: dve, query: SELECT 1}\n"                         // 16
                   "    verify:\n"                                                 // 17
                   "      - migrations_applied: {db: pord, migrations_dir: /m}\n"  // 18
                   "  - id: c\n"                                                   // 19
                   "    copy_rows: {from: prodd, to: dev, table: t}\n"             // 20
                   "  - id: d\n"                                                   // 21
                   "    cancel_queries: {db: x}\n"),                               // 22
            (Lines{"8:11: unknown host 'prd' (did you mean 'prod'?)",
                   "11:29: unknown database 'deev' (did you mean 'dev'?)",
                   "13:25: unknown host 'elsewhere'", "14:19: unknown database 'nope'",
                   "16:15: unknown database 'dve' (did you mean 'dev'?)",
                   "18:34: unknown database 'pord' (did you mean 'prod'?)",
                   "20:23: unknown database 'prodd' (did you mean 'prod'?)",
                   "22:26: unknown database 'x'"}));
}

TEST(ValidateTest, CopyRowsMatch) {
  EXPECT_EQ(Errors("  - id: files\n"                                   // 7
                   "    copy_rows: {from: prod, to: dev, table: f}\n"  // 8
                   "  - id: other\n"                                   // 9
                   "    run: 'true'\n"                                 // 10
                   "  - id: t1\n"                                      // 11
                   "    copy_rows: {from: prod, to: dev, table: t, match: {column: a, step: "
                   "files, parent_column: id}}\n"  // 12
                   "  - id: t2\n"                  // 13
                   "    needs: [other]\n"          // 14
                   "    copy_rows: {from: prod, to: dev, table: t, match: {column: a, step: "
                   "other, parent_column: id}}\n"  // 15
                   "  - id: t3\n"                  // 16
                   "    copy_rows: {from: prod, to: dev, table: t, match: {column: a, step: "
                   "filez, parent_column: id}}\n"  // 17
                   "  - id: t4\n"                  // 18
                   "    copy_rows: {from: prod, to: dev, table: t, match: {column: a, step: "
                   "t4, parent_column: id}}\n"),  // 19
            (Lines{"12:73: match step 'files' must run before 't1': add it to needs",
                   "15:73: match names step 'other', a run step: it must be a copy_rows step",
                   "17:73: match names unknown step 'filez' (did you mean 'files'?)",
                   "19:73: match names the step itself: it must be an earlier copy_rows step"}));
}

TEST(ValidateTest, DatabaseFieldsAndSqlPlacement) {
  Diagnostics parse_diags;
  std::optional<Runbook> rb =
      ParseRunbook("v.yaml",
                   "name: t\n"
                   "secrets: {pw: {env: PW}}\n"
                   "databases:\n"
                   "  a: {conninfo: 'user=${{ secrets.pw }}', password: '${{ secrets.pw }}'}\n"
                   "  b: {conninfo: 'application_name=${{ run.id }} dbname=${{ env.DB }}'}\n"
                   "  c: {conninfo: 'x', tunnel: nowhere}\n"
                   "steps:\n"
                   "  - id: s\n"
                   "    sql: {db: a, query: \"SELECT * FROM t WHERE name = '${{ env.USER }}'\"}\n",
                   BuiltinKinds(), &parse_diags);
  ASSERT_TRUE(rb.has_value());
  Diagnostics diags;
  ValidateRunbook(*rb, &diags);
  diags.SortByLocation();
  std::vector<std::string> got;
  for (const Diagnostic& d : diags.errors()) got.push_back(d.ToString());
  EXPECT_EQ(got, (Lines{"v.yaml:4:27: secret 'pw' in a conninfo, which is shown and passed on: "
                        "put it in password, e.g. password: \"${{ secrets.pw }}\"",
                        "v.yaml:5:39: ${{ run.id }} cannot be used in a database's fields (they "
                        "may use params, env and, in password, secrets)",
                        "v.yaml:6:30: unknown host 'nowhere'",
                        "v.yaml:9:56: ${{ env.USER }} is inside an SQL string: a ${{ }} in SQL "
                        "becomes a bind parameter, write it without quotes"}));
}

TEST(ValidateTest, NoTunnelThroughAHostWithoutMultiplexing) {
  Diagnostics parse_diags;
  std::optional<Runbook> rb =
      ParseRunbook("v.yaml",
                   "name: t\n"
                   "hosts: {db: {ssh: db, multiplex: false}, web: {ssh: web}}\n"
                   "databases:\n"
                   "  a: {conninfo: 'dbname=a', tunnel: db}\n"
                   "  b: {conninfo: 'dbname=b', tunnel: web}\n"
                   "steps:\n"
                   "  - {id: s, run: 'true', host: db}\n",
                   BuiltinKinds(), &parse_diags);
  ASSERT_TRUE(rb.has_value());
  Diagnostics diags;
  ValidateRunbook(*rb, &diags);
  std::vector<std::string> got;
  for (const Diagnostic& d : diags.errors()) got.push_back(d.ToString());
  EXPECT_EQ(got, (Lines{"v.yaml:4:37: database 'a' tunnels through host 'db', which has "
                        "multiplex: false: a tunnel is forwarded over the host's master "
                        "connection"}));
}

TEST(ValidateTest, ColumnsInsideScalarsOnlyWhenWrittenVerbatim) {
  // Plain and quoted one-line scalars map column by column; an escape, a block scalar or a
  // folded line do not, and the error then points at the scalar.
  EXPECT_EQ(Errors("  - id: a\n"
                   "    manual: echo ${{ params.x1 }}\n"
                   "    env:\n"
                   "      A: '${{ params.x2 }}'\n"
                   "      B: \"${{ params.x3 }}\"\n"
                   "      C: \"\\t${{ params.x4 }}\"\n"
                   "      D: 'it''s ${{ params.x5 }}'\n"
                   "      E: |\n"
                   "        ${{ params.x6 }}\n"
                   "      F: folded\n"
                   "        ${{ params.x7 }}\n"),
            (Lines{"8:22: unknown param 'x1' in ${{ params.x1 }}",
                   "10:15: unknown param 'x2' in ${{ params.x2 }}",
                   "11:15: unknown param 'x3' in ${{ params.x3 }}",
                   "12:10: unknown param 'x4' in ${{ params.x4 }}",
                   "13:10: unknown param 'x5' in ${{ params.x5 }}",
                   "14:10: unknown param 'x6' in ${{ params.x6 }}",
                   "16:10: unknown param 'x7' in ${{ params.x7 }}"}));
}

TEST(ValidateTest, ExactColumnsWhenTheLoaderKnowsThem) {
  Runbook rb;
  rb.name = "t";
  rb.hosts.push_back(LocalHost());
  Step s;
  s.id = "a";
  Text cmd;
  cmd.raw = "echo ${{ params.nope }}";  // one word of an argv
  cmd.loc = {"c.yaml", 3, 10};
  cmd.raw_col = 10;
  auto run = std::make_shared<RunStep>();
  run->command = Command{false, {cmd}};
  s.kind = run;
  rb.steps.push_back(s);
  Diagnostics diags;
  ValidateRunbook(rb, &diags);
  ASSERT_EQ(diags.errors().size(), 1u);
  EXPECT_EQ(diags.errors()[0].ToString(),
            "c.yaml:3:19: unknown param 'nope' in ${{ params.nope }}");
}

TEST(ValidateTest, SqlNeedsExactlyOneOfQueryAndFile) {
  Runbook rb;
  rb.name = "t";
  rb.hosts.push_back(LocalHost());
  rb.databases.push_back({"d", {}, {"x", {}}, std::nullopt, std::nullopt});
  Step s;
  s.id = "a";
  s.kind_loc = {"s.yaml", 5, 5};
  auto sql = std::make_shared<SqlStep>();
  sql->db = {"d", {}};
  s.kind = sql;
  rb.steps.push_back(s);
  Diagnostics diags;
  ValidateRunbook(rb, &diags);
  ASSERT_EQ(diags.errors().size(), 1u);
  EXPECT_EQ(diags.errors()[0].ToString(), "s.yaml:5:5: sql needs exactly one of query and file");
}

TEST(ValidateTest, IndirectNeedsWithManyTargets) {
  // Two chains of 150 steps; step i uses the outcome of step i-100. In chain A (0-149) that is
  // an ancestor; in chain B (150-299) it is one only from step 250 on.
  Runbook rb;
  rb.name = "t";
  rb.hosts.push_back(LocalHost());
  for (int i = 0; i < 300; ++i) {
    Step s;
    s.id = "s" + std::to_string(i);
    s.loc = {"m.yaml", i + 1, 1};
    auto manual = std::make_shared<ManualStep>();
    manual->text = Text{"x", {}};
    s.kind = manual;
    if (i != 0 && i != 150) s.needs.push_back({"s" + std::to_string(i - 1), {}});
    if (i >= 100) {
      Text cond;
      cond.raw = "steps.s" + std::to_string(i - 100) + ".outcome";
      cond.loc = s.loc;
      s.if_expr = cond;
    }
    rb.steps.push_back(std::move(s));
  }
  Diagnostics diags;
  ValidateRunbook(rb, &diags);
  diags.SortByLocation();
  ASSERT_EQ(diags.errors().size(), 100u);
  EXPECT_EQ(diags.errors().front().ToString(),
            "m.yaml:151:1: step 's150' uses steps.s50.outcome but does not need s50");
  EXPECT_EQ(diags.errors().back().ToString(),
            "m.yaml:250:1: step 's249' uses steps.s149.outcome but does not need s149");
}

TEST(ValidateTest, LargeRunbookIsFast) {
  // 20k steps, each needing the previous one and using its outcome.
  std::string steps;
  for (int i = 0; i < 20000; ++i) {
    steps += "  - id: s" + std::to_string(i) + "\n";
    if (i > 0) {
      steps += "    needs: [s" + std::to_string(i - 1) + "]\n";
      steps += "    if: ${{ steps.s" + std::to_string(i - 1) + ".outcome == 'success' }}\n";
    }
    steps += "    run: [echo, '${{ params.sample_every }}']\n";
  }
  EXPECT_EQ(Errors(steps), Lines{});
}

}  // namespace
}  // namespace runbook
