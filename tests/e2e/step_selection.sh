#!/usr/bin/env bash
# Issue 15: --only, --from and --rerun on `run` and `resume`: only the chosen steps run, guards
# still apply, the choice is journaled and shown by `status`; unknown ids get a suggestion.
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"
cat >pick.yaml <<YAML
name: pick-e2e
steps:
  - id: backup
    run: echo backup >>"$TEST_TMP/count"
  - id: migrate
    needs: [backup]
    run: echo migrate >>"$TEST_TMP/count"
  - id: restart
    needs: [migrate]
    guards:
      - command: test ! -f "$TEST_TMP/busy"
    run: echo restart >>"$TEST_TMP/count" && test -f "$TEST_TMP/restart-ok"
  - id: report
    run: echo report >>"$TEST_TMP/count"
finally:
  - id: tidy
    needs: [backup]
    run: echo tidy >>"$TEST_TMP/count"
YAML
ran() { tr '\n' ' ' <count | sed 's/ $//'; }
last_run() { grep -oE '[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}' "$TEST_TMP/last.out" | head -1; }

# --only: just those steps; a need it leaves out is named; the finally step needing an unrun
# step is skipped.
expect_exit 0 "$RUNBOOK" run pick.yaml --only migrate,report
[ "$(ran)" = "migrate report" ] || fail "--only ran: $(ran)"
grep -qF "step 'migrate' needs 'backup', which is not selected and has not succeeded in this run: it runs anyway" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "--only does not name the need it leaves out"; }
grep -qF -- "--only migrate,report: not run: backup, restart" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "--only does not name what it leaves out"; }
run1=$(last_run)
expect_exit 0 "$RUNBOOK" status "$run1"
grep -qE "^started .*: --only migrate,report$" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show --only"; }
grep -qE "^  tidy +skipped" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the finally step needing an unrun step was not skipped"; }
grep '"type":"run_started"' "$RUNBOOK_STATE_DIR/pick-e2e/runs/$run1/journal.jsonl" | grep -q '"only":\["migrate","report"\]' || fail "--only not journaled"
ok "run --only runs just the named steps, journaled and shown by status"

# --from: the step and every step after it in the plan's order; guards still apply.
rm count
touch busy
expect_exit 3 "$RUNBOOK" run pick.yaml --from restart
[ ! -f count ] || fail "--from with a blocking guard ran: $(ran)"
ok "run --from: guards still apply"
rm busy
touch restart-ok
expect_exit 0 "$RUNBOOK" run pick.yaml --fresh --from restart
[ "$(ran)" = "restart report" ] || fail "--from ran: $(ran)"
ok "run --from runs the step and the steps after it in the plan's order"

# resume --from / --only / --rerun.
rm count restart-ok
expect_exit 1 "$RUNBOOK" run pick.yaml --fresh
[ "$(ran)" = "backup migrate restart tidy" ] || fail "the full run ran: $(ran)"
run3=$(last_run)
rm count
touch restart-ok
expect_exit 0 "$RUNBOOK" resume "$run3" --only migrate,restart
[ "$(ran)" = "restart tidy" ] || fail "resume --only ran: $(ran)"
grep -qF "step 'migrate' finished earlier in this run: not run again (\`--rerun migrate\` runs it again)" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "resume --only does not say the finished step is not rerun"; }
ok "resume --only runs the chosen unfinished steps, never a finished one unasked"

rm -f restart-ok
expect_exit 1 "$RUNBOOK" run pick.yaml --fresh
run4=$(last_run)
touch restart-ok
rm count
expect_exit 0 "$RUNBOOK" resume "$run4" --rerun backup
[ "$(ran)" = "backup restart report tidy" ] || fail "resume --rerun ran: $(ran)"
grep -qF "step 'backup' runs again (--rerun)" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "--rerun not announced"; }
expect_exit 0 "$RUNBOOK" status "$run4"
grep -qE "^resumed .*: --rerun backup$" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show --rerun"; }
ok "resume --rerun runs a finished step again, journaled and shown by status"

# Unknown ids: exit 2 with the nearest step named; --rerun on a new run is refused.
expect_exit 2 "$RUNBOOK" run pick.yaml --fresh --only migrte
grep -qF "runbook: --only migrte: runbook 'pick-e2e' has no step 'migrte' (did you mean 'migrate'?)" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "no suggestion for --only"; }
expect_exit 2 "$RUNBOOK" resume "$run4" --from restat
grep -qF "did you mean 'restart'?" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "no suggestion for --from"; }
expect_exit 2 "$RUNBOOK" run pick.yaml --fresh --only tidy
grep -qF "'tidy' is a finally step" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "a finally step accepted by --only"; }
expect_exit 2 "$RUNBOOK" run pick.yaml --fresh --rerun backup
grep -qF -- "--rerun runs again a step that finished" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "--rerun on a new run"; }
ok "unknown or finally step ids are refused with a suggestion; --rerun needs a run to continue"
echo "step_selection: $pass_count checks passed"
