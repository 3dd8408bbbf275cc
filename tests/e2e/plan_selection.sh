#!/usr/bin/env bash
# Issue 15 follow-up: `plan` and `run --dry-run` preview exactly the run that --only / --from /
# --rerun choose: the steps left out said not chosen (never as running), their guards not
# evaluated (so they block nothing), the verdict and exit code the run's; a plan saved with a
# choice records it, and `run --plan` runs just those steps (and refuses another choice).
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"
cat >sel.yaml <<YAML
name: plan-selection-e2e
steps:
  - id: backup
    run: echo backup >>"$TEST_TMP/count"
    guards:
      - command: test ! -f "$TEST_TMP/busy"
  - id: migrate
    needs: [backup]
    run: echo migrate >>"$TEST_TMP/count"
  - id: restart
    needs: [migrate]
    run: echo restart >>"$TEST_TMP/count" && test ! -f "$TEST_TMP/restart-fails"
  - id: report
    run: echo report >>"$TEST_TMP/count"
finally:
  - id: tidy
    needs: [backup]
    run: echo tidy >>"$TEST_TMP/count"
YAML
ran() { tr '\n' ' ' <count | sed 's/ $//'; }
has() { grep -qxF -- "$1" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "$2"; }; }

# backup's guard does not hold: the whole run would be blocked, a run from migrate would not.
touch busy
expect_exit 3 "$RUNBOOK" plan sel.yaml
expect_exit 0 "$RUNBOOK" plan sel.yaml --from migrate
has "steps chosen: --from migrate" "plan --from does not say the choice"
has "steps: 4, then 1 finally; 3 would run" "plan --from counts steps that do not run"
has "  not chosen (--from migrate), do not run: backup" "plan --from does not list what it leaves out"
has "  backup [run]: not chosen (--from migrate), does not run" "backup shown as running"
has "  migrate [run]" "migrate not shown as running"
has "  tidy [run]: skipped: it needs backup, which would not succeed (not chosen)" "tidy shown as running"
grep -qF "step 'migrate' needs 'backup', which is not selected and has not succeeded in this run: it runs anyway" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "plan --from does not name the need left out as the run does"; }
if grep -q "guards that do not hold" "$TEST_TMP/last.out"; then fail "a left-out step's guard counted"; fi
[ ! -f count ] || fail "plan ran something: $(ran)"
ok "plan --from: the steps before it not chosen, their guards blocking nothing, exit 0"

# run --dry-run --only: the same preview as plan --only, nothing run.
expect_exit 0 "$RUNBOOK" run sel.yaml --dry-run --only report
has "steps: 4, then 1 finally; 1 would run" "run --dry-run --only counts steps that do not run"
has "  migrate [run]: not chosen (--only report), does not run" "run --dry-run --only shows migrate as running"
has "  report [run]" "report not shown as running"
expect_exit 0 "$RUNBOOK" plan sel.yaml --only report --format json
[ "$(jq -c '[.selection.only, [.steps[] | select(.chosen) | .id], [.steps[] | .would]]' "$TEST_TMP/last.out")" = \
  '[["report"],["report","tidy"],["not_chosen","not_chosen","not_chosen","run","skip"]]' ] ||
  fail "plan --format json: $(jq -c '[.selection, [.steps[] | [.id, .chosen, .would]]]' "$TEST_TMP/last.out")"
[ ! -f count ] || fail "run --dry-run ran something: $(ran)"
ok "run --dry-run --only previews just the chosen steps, in text and JSON"

# The same validation as run: unknown ids with a suggestion, --rerun only with --resume (exit 2).
expect_exit 2 "$RUNBOOK" plan sel.yaml --only migrte
grep -qF "runbook: --only migrte: runbook 'plan-selection-e2e' has no step 'migrte' (did you mean 'migrate'?)" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.err"; fail "plan --only: no suggestion"; }
expect_exit 2 "$RUNBOOK" run sel.yaml --dry-run --from restat
grep -qF "did you mean 'restart'?" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "run --dry-run --from: no suggestion"; }
expect_exit 2 "$RUNBOOK" plan sel.yaml --rerun backup
grep -qF -- "--rerun runs again a step that finished" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "plan --rerun without --resume"; }
ok "plan refuses unknown step ids with a suggestion and --rerun without --resume (exit 2)"

# A plan saved with --only: `run --plan` runs just those, and refuses another choice.
rm busy
expect_exit 0 "$RUNBOOK" plan sel.yaml --only migrate,report --out only.plan
[ "$(jq -c .selection.only only.plan)" = '["migrate","report"]' ] || fail "the saved plan lacks the choice"
expect_exit 4 "$RUNBOOK" run sel.yaml --plan only.plan --only report
grep -qF "the steps chosen: --only migrate,report in the plan, --only report now" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.err"; fail "another choice than the plan's not refused"; }
[ ! -f count ] || fail "a refused run ran: $(ran)"
expect_exit 0 "$RUNBOOK" run sel.yaml --plan only.plan
[ "$(ran)" = "migrate report" ] || fail "run --plan of a plan saved with --only ran: $(ran)"
ok "run --plan runs just the steps the saved plan chose, and refuses another choice"

# A resume's plan: finished steps stay already done, a --rerun one runs again, the others chosen
# or not as in a new run.
rm count
touch restart-fails
expect_exit 1 "$RUNBOOK" run sel.yaml --fresh
[ "$(ran)" = "backup migrate restart tidy" ] || fail "the failing run ran: $(ran)"
rm count restart-fails
expect_exit 0 "$RUNBOOK" plan sel.yaml --resume --only restart --rerun migrate
has "steps chosen: --only restart --rerun migrate" "plan --resume: the choice not said"
has "steps: 4, then 1 finally; 3 would run" "plan --resume --rerun: the count"
grep -qE "^  backup \[run\]: already done \(succeeded in run .*\), skipped$" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "a finished step not shown already done"; }
grep -qE "^  migrate \[run\]: runs again \(--rerun\), although it succeeded in run " "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "a --rerun step not shown running again"; }
has "  report [run]: not chosen (--only restart --rerun migrate), does not run" "report shown as running"
expect_exit 2 "$RUNBOOK" run sel.yaml --dry-run --rerun migrate
expect_exit 0 "$RUNBOOK" run sel.yaml --resume --only restart --rerun migrate
[ "$(ran)" = "migrate restart tidy" ] || fail "the resume previewed ran: $(ran)"
ok "plan --resume --rerun: finished steps already done, the --rerun one runs again, as the resume does"
# The expected duration is of the steps that would run: the chosen ones (from the runs above).
expect_exit 0 "$RUNBOOK" plan sel.yaml --only report --format json
jq -e '(.steps | map(select(.chosen | not)) | map(.expected_seconds) | all) and
  .expected_seconds == (.steps | map(select(.chosen and (has("needs_left_out") | not)))
                               | map(.expected_seconds // 0) | add)' "$TEST_TMP/last.out" >/dev/null ||
  fail "expected duration of the chosen steps: $(jq -c '[.expected_seconds, [.steps[] | [.id, .chosen, .expected_seconds]]]' "$TEST_TMP/last.out")"
ok "the expected duration counts only the chosen steps"
echo "plan_selection: $pass_count checks passed"
