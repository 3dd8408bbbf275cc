#include "engine/template.h"

#include <gtest/gtest.h>

#include <string>

namespace runbook {
namespace {

// A one-line plain scalar written at column 10 of line 4 of "t.yaml".
Text Plain(std::string raw) {
  Text t;
  t.raw = std::move(raw);
  t.loc = {"t.yaml", 4, 10};
  t.raw_col = 10;
  return t;
}

struct Fixture {
  ParamValues params{{"sample_every", "500"},
                     {"workdir", "/tmp/jane clone"},
                     {"reindex", "false"},
                     {"name", "a b\"c"}};
  std::map<std::string, std::string> secrets{{"dev_password", "s3cr'et"}};
  std::map<std::string, std::string> outcomes{{"migrate", "success"}, {"dump", "failure"}};
  TemplateScope scope;

  Fixture() {
    scope.params = &params;
    scope.secrets = &secrets;
    scope.env = [](const std::string& n) -> std::optional<std::string> {
      if (n == "HOME") return std::string("/home/jane");
      return std::nullopt;
    };
    scope.run_id = "20261125-0545-ab12";
    scope.run_dir = "/state/runs/20261125-0545-ab12";
    scope.step_outcomes = &outcomes;
    scope.db_conninfo = [](const std::string& n) -> std::optional<std::string> {
      if (n == "prod") return std::string("host=/var/run/postgresql dbname=jane");
      return std::nullopt;
    };
  }

  std::string Render(const std::string& raw) {
    Result<Rendered> r = RenderText(Plain(raw), scope);
    return r.ok() ? r->value : "ERROR: " + r.message();
  }
  std::string Cond(const std::string& raw) {
    Result<bool> r = EvaluateCondition(Plain(raw), scope);
    return r.ok() ? (*r ? "true" : "false") : "ERROR: " + r.message();
  }
};

TEST(TemplateTest, CollectsEveryKindOfReference) {
  Diagnostics diags;
  const Text text = Plain(
      "${{params.a}} ${{ secrets.b }} ${{ env.C }} ${{ run.id }} ${{run.dir}} "
      "${{ steps.x-1.outcome }} ${{ databases.prod.conninfo }}");
  std::vector<TemplateRef> refs = CollectRefs(text, &diags);  // views into text
  ASSERT_TRUE(diags.ok()) << diags.errors()[0].ToString();
  ASSERT_EQ(refs.size(), 7u);
  EXPECT_EQ(refs[0].kind, TemplateRef::Kind::kParam);
  EXPECT_EQ(refs[0].name, "a");
  EXPECT_EQ(refs[0].expr, "${{params.a}}");
  EXPECT_EQ(refs[0].loc.col, 13);  // "params" starts at offset 3
  EXPECT_EQ(refs[1].kind, TemplateRef::Kind::kSecret);
  EXPECT_EQ(refs[1].loc.col, 10 + 18);
  EXPECT_EQ(refs[2].kind, TemplateRef::Kind::kEnv);
  EXPECT_EQ(refs[2].name, "C");
  EXPECT_EQ(refs[3].kind, TemplateRef::Kind::kRun);
  EXPECT_EQ(refs[3].name, "id");
  EXPECT_EQ(refs[4].name, "dir");
  EXPECT_EQ(refs[5].kind, TemplateRef::Kind::kStep);
  EXPECT_EQ(refs[5].name, "x-1");
  EXPECT_EQ(refs[5].field, "outcome");
  EXPECT_EQ(refs[6].kind, TemplateRef::Kind::kDatabase);
  EXPECT_EQ(refs[6].field, "conninfo");
}

TEST(TemplateTest, SyntaxErrorsPointInsideTheString) {
  Diagnostics diags;
  const Text text = Plain("x ${{ params.ok }} ${{ param.bad }} ${{ steps.a.status }}");
  std::vector<TemplateRef> refs = CollectRefs(text, &diags);
  ASSERT_EQ(refs.size(), 1u);  // the good one is still collected
  ASSERT_EQ(diags.errors().size(), 2u);
  EXPECT_EQ(diags.errors()[0].ToString(),
            "t.yaml:4:33: unknown name 'param' (did you mean 'params'?) (expected params, "
            "secrets, env, run, steps or databases) in ${{ param.bad }}");
  EXPECT_EQ(diags.errors()[1].ToString(),
            "t.yaml:4:50: unknown field 'status' of a step (expected steps.ID.outcome) in "
            "${{ steps.a.status }}");
}

TEST(TemplateTest, SyntaxErrorsWithoutColumnsPointAtTheScalar) {
  Text t = Plain("line1\n${{ params. }}");
  t.raw_col = 0;
  Diagnostics diags;
  CollectRefs(t, &diags);
  ASSERT_EQ(diags.errors().size(), 1u);
  EXPECT_EQ(diags.errors()[0].ToString(),
            "t.yaml:4:10: 'params.' is not of the form params.NAME in ${{ params. }}");
}

TEST(TemplateTest, MalformedExpressions) {
  auto first_error = [](const std::string& raw) {
    Diagnostics diags;
    CollectRefs(Plain(raw), &diags);
    return diags.ok() ? std::string("ok") : diags.errors()[0].ToString();
  };
  EXPECT_EQ(first_error("a ${{ params.x"), "t.yaml:4:12: '${{' without a closing '}}'");
  EXPECT_EQ(first_error("${{ }}"), "t.yaml:4:14: empty expression in ${{ }}");
  EXPECT_EQ(first_error("${{ (params.x }}"),
            "t.yaml:4:14: '(' without a matching ')' in ${{ (params.x }}");
  EXPECT_EQ(first_error("${{ params.x params.y }}"),
            "t.yaml:4:23: unexpected 'params.y' in ${{ params.x params.y }}");
  EXPECT_EQ(first_error("${{ 'abc }}"), "t.yaml:4:10: '${{' without a closing '}}'");
  EXPECT_EQ(
      first_error("${{ run.user }}"),
      "t.yaml:4:14: unknown field 'run.user' (expected run.id or run.dir) in ${{ run.user }}");
  EXPECT_EQ(first_error("${{ foo }}"),
            "t.yaml:4:14: unknown name 'foo' (expected params, secrets, env, run, steps or "
            "databases) in ${{ foo }}");
  EXPECT_EQ(first_error("${{ params.a == }}"),
            "t.yaml:4:26: expected a value at the end in ${{ params.a == }}");
  EXPECT_EQ(first_error("${{ a = b }}"),
            "t.yaml:4:14: unknown name 'a' (expected params, secrets, env, run, steps or "
            "databases) in ${{ a = b }}");
  EXPECT_EQ(first_error("${{ params.a = 'b' }}"),
            "t.yaml:4:23: unexpected '=' in ${{ params.a = 'b' }}");
}

TEST(TemplateTest, DeepNestingIsAnErrorNotACrash) {
  Diagnostics diags;
  CollectConditionRefs(Plain(std::string(100000, '(') + "true"), &diags);
  CollectConditionRefs(Plain(std::string(100000, '!') + "true"), &diags);
  ASSERT_EQ(diags.errors().size(), 2u);
  EXPECT_EQ(diags.errors()[0].loc.col, 10 + 64);
  EXPECT_NE(diags.errors()[0].message.find("expression nested too deeply in "), std::string::npos);
  Fixture f;
  EXPECT_EQ(f.Cond(std::string(64, '(') + "true" + std::string(64, ')')), "true");
}

TEST(TemplateTest, RendersPlainValues) {
  Fixture f;
  EXPECT_EQ(f.Render("every ${{ params.sample_every }} rows"), "every 500 rows");
  EXPECT_EQ(f.Render("${{env.HOME}}/x"), "/home/jane/x");
  EXPECT_EQ(f.Render("${{ run.dir }}/out-${{ run.id }}"),
            "/state/runs/20261125-0545-ab12/out-20261125-0545-ab12");
  EXPECT_EQ(f.Render("${{ databases.prod.conninfo }}"), "host=/var/run/postgresql dbname=jane");
  EXPECT_EQ(f.Render("${{ steps.migrate.outcome }}"), "success");
  EXPECT_EQ(f.Render("no template"), "no template");
  EXPECT_EQ(f.Render("${{ 'it''s' }} ${{ \"x\" }} ${{ 42 }}"), "it's x 42");
}

TEST(TemplateTest, MissingValuesAreErrorsNamingTheExpression) {
  Fixture f;
  EXPECT_EQ(f.Render("${{ params.nope }}"),
            "ERROR: no value for param 'nope' in ${{ params.nope }}");
  EXPECT_EQ(f.Render("${{ env.UNSET_X }}"),
            "ERROR: environment variable 'UNSET_X' is not set in ${{ env.UNSET_X }}");
  EXPECT_EQ(f.Render("${{ steps.later.outcome }}"),
            "ERROR: no outcome yet for step 'later' in ${{ steps.later.outcome }}");
  EXPECT_EQ(f.Render("${{ databases.dev.conninfo }}"),
            "ERROR: unknown database 'dev' in ${{ databases.dev.conninfo }}");
  EXPECT_EQ(f.Render("${{ secrets.x }}"), "ERROR: no value for secret 'x' in ${{ secrets.x }}");
}

// Plans and definition hashes render step outcomes as placeholders, the same for every step.
TEST(TemplateTest, OutcomePlaceholdersStandForEveryStepsOutcome) {
  Fixture f;
  f.scope.step_outcomes = nullptr;
  f.scope.outcome_placeholders = true;
  EXPECT_EQ(f.Render("${{ steps.migrate.outcome }} ${{ steps.later.outcome }}"),
            "<outcome of migrate> <outcome of later>");
  EXPECT_EQ(f.Cond("steps.migrate.outcome == 'success'"), "false");
}

TEST(TemplateTest, SecretsAreMaskedInDisplay) {
  Fixture f;
  Result<Rendered> r = RenderText(
      Plain("PGPASSWORD=${{ secrets.dev_password }} ${{ params.sample_every }}"), f.scope);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value, "PGPASSWORD=s3cr'et 500");
  EXPECT_EQ(r->display, "PGPASSWORD=*** 500");
  EXPECT_TRUE(r->used_secret);
  Result<Rendered> none = RenderText(Plain("echo hi"), f.scope);
  EXPECT_FALSE(none->used_secret);
}

TEST(TemplateTest, SqlValuesBecomeBindParameters) {
  Fixture f;
  Result<SqlText> r =
      RenderSql(Plain("SELECT * FROM t WHERE id % ${{ params.sample_every }} = 0 AND name = "
                      "${{ params.name }} AND pw <> ${{ secrets.dev_password }} -- it's ok"),
                f.scope);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->query, "SELECT * FROM t WHERE id % $1 = 0 AND name = $2 AND pw <> $3 -- it's ok");
  EXPECT_EQ(r->params, (std::vector<std::string>{"500", "a b\"c", "s3cr'et"}));
  EXPECT_EQ(r->display,
            "SELECT * FROM t WHERE id % '500' = 0 AND name = 'a b\"c' AND pw <> *** -- it's ok");
}

TEST(TemplateTest, SqlExpressionsInsideStringsOrCommentsAreErrors) {
  Fixture f;
  auto error = [&](const std::string& raw) {
    Result<SqlText> r = RenderSql(Plain(raw), f.scope);
    return r.ok() ? std::string("ok: ") + r->query : r.message();
  };
  EXPECT_EQ(error("SELECT '${{ params.name }}'"),
            "${{ params.name }} is inside an SQL string: a ${{ }} in SQL becomes a bind "
            "parameter, write it without quotes");
  EXPECT_EQ(error("SELECT \"${{ params.name }}\""),
            "${{ params.name }} is inside an SQL quoted identifier: a ${{ }} in SQL becomes a "
            "bind parameter, write it without quotes");
  EXPECT_EQ(error("SELECT 1 -- ${{ params.name }}"),
            "${{ params.name }} is inside an SQL comment: a ${{ }} in SQL becomes a bind "
            "parameter, write it without quotes");
  EXPECT_EQ(error("SELECT /* a /* b */ ${{ params.name }} */ 1"),
            "${{ params.name }} is inside an SQL comment: a ${{ }} in SQL becomes a bind "
            "parameter, write it without quotes");
  EXPECT_EQ(error("DO $body$ BEGIN ${{ params.name }} END $body$"),
            "${{ params.name }} is inside an SQL string: a ${{ }} in SQL becomes a bind "
            "parameter, write it without quotes");
  // Closed strings, doubled quotes, E'' escapes and dollar quotes do not confuse it.
  EXPECT_EQ(error("SELECT 'it''s', E'\\'', $$x$$, $q$'$q$, \"a\"\"b\" = ${{ params.name }}"),
            "ok: SELECT 'it''s', E'\\'', $$x$$, $q$'$q$, \"a\"\"b\" = $1");

  Diagnostics diags;
  CheckSqlTemplate(Plain("SELECT 1 WHERE x = '${{ params.name }}'"), &diags);
  ASSERT_EQ(diags.errors().size(), 1u);
  EXPECT_EQ(diags.errors()[0].loc.col, 10 + 20);
}

TEST(TemplateTest, Conditions) {
  Fixture f;
  EXPECT_EQ(f.Cond("${{ params.reindex }}"), "false");
  EXPECT_EQ(f.Cond("${{ !params.reindex }}"), "true");
  EXPECT_EQ(f.Cond("  ${{ params.sample_every }}  "), "true");
  EXPECT_EQ(f.Cond("${{ steps.migrate.outcome == 'success' }}"), "true");
  EXPECT_EQ(f.Cond("${{ steps.dump.outcome != \"failure\" }}"), "false");
  EXPECT_EQ(f.Cond("${{ params.sample_every == 500 && !(params.reindex || false) }}"), "true");
  EXPECT_EQ(f.Cond("${{ params.reindex == false }}"), "true");
  EXPECT_EQ(f.Cond("${{ '' }}"), "false");
  EXPECT_EQ(f.Cond("${{ '0' }}"), "false");
  EXPECT_EQ(f.Cond("${{ 'no' }}"), "true");
  // A bare expression, as in GitHub Actions.
  EXPECT_EQ(f.Cond("steps.migrate.outcome == 'success' && params.sample_every"), "true");
  EXPECT_EQ(f.Cond("true"), "true");
  EXPECT_EQ(f.Cond("false"), "false");
  // && and || short-circuit: the unknown outcome is never looked up.
  EXPECT_EQ(f.Cond("false && steps.later.outcome == 'success'"), "false");
  EXPECT_EQ(f.Cond("true || steps.later.outcome == 'success'"), "true");
  EXPECT_EQ(f.Cond("true && steps.later.outcome == 'success'"),
            "ERROR: no outcome yet for step 'later' in true && steps.later.outcome == 'success'");
  // Precedence: && binds tighter than ||; ! tighter than ==.
  EXPECT_EQ(f.Cond("true || false && false"), "true");
  EXPECT_EQ(f.Cond("!params.reindex == true"), "true");
}

TEST(TemplateTest, MixedConditionTextIsAnError) {
  Fixture f;
  EXPECT_EQ(f.Cond("${{ params.reindex }} == true"),
            "ERROR: a condition is one ${{ }} expression or a bare expression, not text mixed "
            "with ${{ }} (that would be a string, always true)");
  Diagnostics diags;
  CollectConditionRefs(Plain("${{ params.a }}${{ params.b }}"), &diags);
  EXPECT_EQ(diags.errors().size(), 1u);
}

TEST(TemplateTest, Truthiness) {
  EXPECT_FALSE(IsTruthy(""));
  EXPECT_FALSE(IsTruthy("false"));
  EXPECT_FALSE(IsTruthy("0"));
  EXPECT_TRUE(IsTruthy("true"));
  EXPECT_TRUE(IsTruthy("no"));
  EXPECT_TRUE(IsTruthy("00"));
}

}  // namespace
}  // namespace runbook
