#!/usr/bin/env bash
# A secret given through the environment never appears in stdout, stderr, logs, journal or plan.
# Lock: a concurrent second run is refused with exit 4 naming the holder; a stale lock is taken over.
source "$(dirname "$0")/lib/common.bash"
export RB_TEST_TOKEN="s3cr3t-Value-$$-xyzzy"
cat >"$TEST_TMP/secret.yaml" <<'YAML'
name: secrettest
secrets:
  token: {env: RB_TEST_TOKEN}
params:
  label: {type: string, default: "a b'c"}
steps:
  - id: use
    env: {TOKEN: "${{ secrets.token }}", LABEL: "${{ params.label }}"}
    run: |
      echo "stdout has $TOKEN"
      echo "stderr has $TOKEN" >&2
      echo "label is $LABEL"
  - id: source-not-inherited
    needs: [use]
    run: echo "inherited ${RB_TEST_TOKEN-none}"
  - id: fails-with-secret
    needs: [source-not-inherited]
    env: {TOKEN: "${{ secrets.token }}"}
    run: echo "about to fail with $TOKEN"; exit 3
YAML
expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/secret.yaml" --out "$TEST_TMP/plan.json"
cat "$TEST_TMP/last.out" "$TEST_TMP/last.err" >"$TEST_TMP/all.txt"
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/secret.yaml"
cat "$TEST_TMP/last.out" "$TEST_TMP/last.err" >>"$TEST_TMP/all.txt"
grep -q "stdout has \*\*\*" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the step's output was not shown masked"; }
grep -q "label is a b'c" "$TEST_TMP/last.out" || fail "a param with a quote did not reach the shell intact"
grep -q "inherited none" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "a step inherited the variable a secret is read from"; }
ok "the variable a secret is read from is not passed to steps (only through their env)"
run_id=$(basename "$(run_dir_of secrettest)")
"$RUNBOOK" logs "$run_id" >>"$TEST_TMP/all.txt"
"$RUNBOOK" status "$run_id" --format json >>"$TEST_TMP/all.txt"
if grep -rq "$RB_TEST_TOKEN" "$TEST_TMP/all.txt" "$RUNBOOK_STATE_DIR" "$TEST_TMP/plan.json"; then
  grep -rn "$RB_TEST_TOKEN" "$TEST_TMP/all.txt" "$RUNBOOK_STATE_DIR" "$TEST_TMP/plan.json" | head
  fail "the secret leaked"
fi
ok "the secret appears in no output, log, journal or plan"

cat >"$TEST_TMP/lock.yaml" <<YAML
name: locktest
steps:
  - id: hold
    run: touch "$TEST_TMP/holding"; sleep 30
YAML
"$RUNBOOK" run "$TEST_TMP/lock.yaml" >"$TEST_TMP/holder.out" 2>&1 &
holder=$!
for _ in $(seq 100); do [ -f "$TEST_TMP/holding" ] && break; sleep 0.05; done
expect_exit 4 "$RUNBOOK" run "$TEST_TMP/lock.yaml" --fresh
grep -q "pid $holder" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "the refusal does not name the holder's pid $holder"; }
ok "a concurrent second run is refused with exit 4 naming pid $holder"
kill -9 $holder; wait $holder 2>/dev/null || true
pkill -f "$TEST_TMP/holding" || true
rm -f "$TEST_TMP/holding"
sed -i 's/sleep 30/true/' "$TEST_TMP/lock.yaml"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/lock.yaml" --fresh
grep -qi "stale" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.out"; fail "taking over the stale lock was not reported"; }
ok "a stale lock (holder killed with SIGKILL) is taken over and reported"
echo "$pass_count passed, 0 failed"
