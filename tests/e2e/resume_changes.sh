#!/usr/bin/env bash
# Issue 15: before anything runs, a resume reports the steps added, removed and renamed and the
# changed `needs`; a finished step under a new id with the same definition is the same finished
# step (reported as renamed, not run again). Options given to a resume (-i, --set) are journaled
# and their differences from the run's shown before it goes on.
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"
write() {  # write TWO_ID THREE_NEEDS EXTRA_STEP
  cat >rename.yaml <<YAML
name: rename-e2e
params:
  word: {type: string, default: plain}
steps:
  - id: one
    run: echo one >>"$TEST_TMP/one.count"
  - id: $1
    needs: [one]
    run: echo two >>"$TEST_TMP/two.count"
  - id: three
    needs: [$2]
    run: test -f "$TEST_TMP/open" && echo "\$RUNBOOK_PARAM_WORD" >>"$TEST_TMP/three.out"
$3
finally:
  - id: tidy
    run: "true"
YAML
}
write two "two" ""
expect_exit 1 "$RUNBOOK" run rename.yaml
run_id=$(basename "$(run_dir_of rename-e2e)")
journal="$(run_dir_of rename-e2e)/journal.jsonl"

# two becomes two-b (same command), three now needs one and two-b, a step is added.
write two-b "one, two-b" "  - id: four
    run: echo four >>\"$TEST_TMP/four.count\""
cat >site.yaml <<'YAML'
params:
  word: from-site
YAML
touch open
expect_exit 0 "$RUNBOOK" resume "$run_id" -i site.yaml
out="$TEST_TMP/last.out"
grep -qF "runbook 'rename-e2e' changed since run $run_id last ran:" "$out" || { cat "$out"; fail "no report of the changes"; }
for want in "renamed: two -> two-b (same definition, finished: not run again)" "added: four" \
  "needs of three: [two] -> [one, two-b]" "inventories: [] -> [$TEST_TMP/site.yaml]" \
  "param word: plain -> from-site"; do
  grep -qF -- "$want" "$out" || { cat "$out"; fail "the report lacks '$want'"; }
done
# The report comes before the first step the resume runs.
report_line=$(grep -n "changed since run" "$out" | head -1 | cut -d: -f1)
first_step=$(grep -nE "> (three|four) " "$out" | head -1 | cut -d: -f1)
[ -n "$first_step" ] && [ "$report_line" -lt "$first_step" ] || { cat "$out"; fail "the changes are not reported before anything runs"; }
[ "$(wc -l <two.count)" = 1 ] || fail "the renamed finished step ran again"
[ "$(wc -l <one.count)" = 1 ] || fail "a finished step ran again"
[ "$(cat three.out)" = from-site ] || fail "the resume did not run with the inventory given to it"
[ -f four.count ] || fail "the added step did not run"
ok "a renamed finished step is reported and not rerun; added steps and changed needs are reported"

grep '"type":"run_resumed"' "$journal" | grep -q '"renamed":{"two":"two-b"}' || fail "the rename is not journaled"
grep '"type":"run_resumed"' "$journal" | grep -q '"inventories":\["'"$TEST_TMP"'/site.yaml"\]' || fail "-i of the resume not journaled"
expect_exit 0 "$RUNBOOK" status "$run_id"
grep -qE "^resumed .*: -i $TEST_TMP/site.yaml; renamed two -> two-b$" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show the resume's options and rename"; }
grep -qE "^  two-b +success" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show two-b as finished"; }
ok "the rename and the resume's options are journaled and shown by status"

# `run --resume` reports the same way and keeps the run's inventories; a removed step is named.
rm -f open
write two-b "one, two-b" "  - id: four
    run: echo four >>\"$TEST_TMP/four.count\""
expect_exit 1 "$RUNBOOK" run --fresh rename.yaml -i site.yaml
write two-b "one, two-b" ""
touch open
expect_exit 0 "$RUNBOOK" run rename.yaml --resume
grep -qF "removed: four (pending in this run)" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the removed step is not reported"; }
grep -qF "this resume of run" "$TEST_TMP/last.out" && { cat "$TEST_TMP/last.out"; fail "run --resume without -i reports option changes"; }
[ "$(tail -1 three.out)" = from-site ] || fail "run --resume dropped the run's inventory"
ok "run --resume reports a removed step and keeps the run's inventories"
echo "resume_changes: $pass_count checks passed"
