#!/usr/bin/env bash
# Issue 15: runs are ordered by their start to the millisecond, not by id text; `resume` without
# an argument acts only when exactly one unfinished run exists, else lists them and exits 4.
source "$(dirname "$0")/lib/common.bash"

# --- Two runs in the same second: a finished `run`, then an unfinished `run --fresh`. The plain
# `run` after them must see the unfinished one, whatever the ids' random suffixes say. The case
# that fooled id order (the later run's suffix sorts first) comes about by chance: try until it
# has been seen twice.
cat >"$TEST_TMP/order.yaml" <<YAML
name: order
steps:
  - id: step
    run: test ! -f "$TEST_TMP/break"
YAML
adversarial=0
for attempt in $(seq 60); do
  rm -rf "$RUNBOOK_STATE_DIR" "$TEST_TMP/break"
  expect_exit 0 "$RUNBOOK" run "$TEST_TMP/order.yaml"
  first=$(basename "$(run_dir_of order)")
  touch "$TEST_TMP/break"
  expect_exit 1 "$RUNBOOK" run --fresh "$TEST_TMP/order.yaml"
  rm "$TEST_TMP/break"
  second=$(ls "$RUNBOOK_STATE_DIR/order/runs" | grep -vx "$first")
  expect_exit 4 "$RUNBOOK" run "$TEST_TMP/order.yaml"
  grep -q "run $second of 'order' did not finish" "$TEST_TMP/last.err" "$TEST_TMP/last.out" ||
    { cat "$TEST_TMP/last.err"; fail "attempt $attempt: run does not refuse naming $second (first $first)"; }
  [ "$(ls "$RUNBOOK_STATE_DIR/order/runs" | wc -l)" = 2 ] || fail "attempt $attempt: a third run started"
  expect_exit 0 "$RUNBOOK" status
  grep -q "^run $second " "$TEST_TMP/last.out" || fail "attempt $attempt: status does not show the latest run $second"
  if [ "${first:0:15}" = "${second:0:15}" ] && [[ "$second" < "$first" ]]; then
    adversarial=$((adversarial + 1))
    expect_exit 0 "$RUNBOOK" resume
    grep -q "$second" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || fail "bare resume did not continue $second"
    [ "$adversarial" -ge 2 ] && break
  fi
done
[ "$adversarial" -ge 2 ] || fail "two runs in one second with the later id sorting first did not occur in 60 tries"
ok "runs started in the same second are ordered by start time ($attempt tries, $adversarial against id order)"

# --- A bare resume with several unfinished runs lists them and runs nothing.
rm -rf "$RUNBOOK_STATE_DIR"
for name in alpha beta; do
  cat >"$TEST_TMP/$name.yaml" <<YAML
name: $name
steps:
  - id: count
    run: echo x >>"$TEST_TMP/$name.count"
  - id: gate
    needs: [count]
    run: test -f "$TEST_TMP/$name.open"
YAML
  expect_exit 1 "$RUNBOOK" run "$TEST_TMP/$name.yaml"
done
alpha=$(basename "$(run_dir_of alpha)")
beta=$(basename "$(run_dir_of beta)")
touch "$TEST_TMP/alpha.open" "$TEST_TMP/beta.open"
expect_exit 4 "$RUNBOOK" resume --yes
for want in "$alpha" "$beta" alpha beta "gate (failed)" "runbook resume RUN_ID"; do
  grep -qF -- "$want" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "the list of unfinished runs lacks '$want'"; }
done
[ ! -s "$TEST_TMP/last.out" ] || { cat "$TEST_TMP/last.out"; fail "a refused bare resume printed progress"; }
for name in alpha beta; do
  [ "$(wc -l <"$TEST_TMP/$name.count")" = 1 ] || fail "a refused bare resume ran a step of $name"
  expect_exit 0 "$RUNBOOK" status "$TEST_TMP/$name.yaml"
  grep -q "gate.*failure" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "$name's run changed"; }
done
ok "resume without an argument and two unfinished runs lists them, exits 4, runs nothing"

# A successful newer run of alpha supersedes its unfinished one: beta is then the only one.
expect_exit 0 "$RUNBOOK" run --fresh "$TEST_TMP/alpha.yaml"
expect_exit 0 "$RUNBOOK" resume
grep -qF "$beta" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || fail "bare resume did not continue $beta"
[ "$(wc -l <"$TEST_TMP/beta.count")" = 1 ] || fail "resume reran beta's finished step"
expect_exit 0 "$RUNBOOK" status "$TEST_TMP/beta.yaml"
grep -q "gate.*success" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "beta's run did not finish"; }
ok "with exactly one unfinished run, a bare resume continues it"

expect_exit 4 "$RUNBOOK" resume
grep -q "no unfinished run to resume" "$TEST_TMP/last.err" || fail "no message when nothing is unfinished"
ok "with none, a bare resume exits 4"
echo "$pass_count passed"
