#!/usr/bin/env bash
# Ctrl-C during a step: exit 130 within 3 s, no process of the step's tree left, resumable.
# A timeout: a step that forks background children is ended with its whole tree.
source "$(dirname "$0")/lib/common.bash"
marker="rb-e2e-sig-$$"
cat >"$TEST_TMP/sig.yaml" <<YAML
name: sigtest
steps:
  - id: first
    run: echo first
  - id: slow
    needs: [first]
    run: |
      if [ -f "$TEST_TMP/second-time" ]; then echo resumed; exit 0; fi
      touch "$TEST_TMP/second-time"
      sh -c 'sleep 300; : $marker-a' &
      (sh -c 'sleep 300; : $marker-b') &
      sh -c 'sleep 300; : $marker-c'
  - id: last
    needs: [slow]
    run: echo last
YAML
"$RUNBOOK" run "$TEST_TMP/sig.yaml" >"$TEST_TMP/sig.out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -f "$TEST_TMP/second-time" ] && break; sleep 0.05; done
sleep 0.3
start=$(date +%s%N)
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 130 ] || { cat "$TEST_TMP/sig.out"; fail "SIGINT: exit $rc, want 130"; }
[ "$ms" -lt 3000 ] || fail "SIGINT: took ${ms} ms (limit 3000)"
ok "SIGINT exits 130 in ${ms} ms"
sleep 0.2
no_process_with "$marker" || fail "SIGINT left processes of the step behind"
ok "no process of the interrupted step's tree is left"
expect_exit 0 "$RUNBOOK" status "$TEST_TMP/sig.yaml"
grep -q "slow.*interrupted" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show the interrupted step"; }
expect_exit 0 "$RUNBOOK" resume "$TEST_TMP/sig.yaml"
grep -q "resumed" "$TEST_TMP/last.out" || fail "resume did not rerun the interrupted step"
if grep -q "^  first$" "$TEST_TMP/last.out"; then fail "resume ran the finished step 'first' again"; fi
ok "the interrupted run resumes and finishes without redoing 'first'"

cat >"$TEST_TMP/timeout.yaml" <<YAML
name: timeouttest
steps:
  - id: forks
    timeout: 1s
    run: |
      sh -c 'sleep 300; : $marker-t1' &
      (sh -c 'sleep 300; : $marker-t2') &
      sh -c 'sleep 300; : $marker-t3'
YAML
start=$(date +%s%N)
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/timeout.yaml"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "timed_out" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the step is not reported as timed out"; }
sleep 0.2
no_process_with "$marker-t" || fail "timeout left background children alive"
ok "timeout ends the whole tree (run took ${ms} ms for a 1 s timeout)"
echo "$pass_count passed, 0 failed"
