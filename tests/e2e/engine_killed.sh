#!/usr/bin/env bash
# The engine dies (kill -9): no process of the running step is left 5 s later, even one that
# ignores SIGTERM; the journal names the step's process group and boot; status says the engine
# died; a resume while a process of the step is still alive refuses, naming it; once it is gone,
# the resume reruns the step.
source "$(dirname "$0")/lib/common.bash"
marker="rb-e2e-kill9-$$"
cat >"$TEST_TMP/kill.yaml" <<YAML
name: killtest
steps:
  - id: slow
    env:
      DIR: "$TEST_TMP"
    run: |
      if [ -f "\$DIR/again" ]; then echo rerun; exit 0; fi
      touch "\$DIR/again"
      trap '' TERM
      sh -c 'sleep 300; : $marker-a' &
      (sh -c 'sleep 300; : $marker-b') &
      sh -c 'sleep 300; : $marker-c'
YAML
"$RUNBOOK" run "$TEST_TMP/kill.yaml" >"$TEST_TMP/run.out" 2>&1 &
pid=$!
for _ in $(seq 100); do pgrep -f -- "$marker-c" >/dev/null && break; sleep 0.05; done
pgrep -f -- "$marker-c" >/dev/null || { cat "$TEST_TMP/run.out"; fail "the step did not start"; }
sleep 0.3
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
killed=$(date +%s%N)

journal="$(run_dir_of killtest)/journal.jsonl"
grep -q '"type":"step_process"' "$journal" || { cat "$journal"; fail "no step_process record"; }
grep -q "\"boot_id\":\"$(cat /proc/sys/kernel/random/boot_id)\"" "$journal" || fail "the step's boot id is not journaled"
ok "the journal records the step's process group and boot id"

# The step ignores SIGTERM: its processes live until the watchdog's SIGKILL, 3 s after the death.
expect_exit 4 "$RUNBOOK" resume --yes "$TEST_TMP/kill.yaml"
grep -q "step 'slow': process group [0-9]*: pid [0-9]* (s" "$TEST_TMP/last.out" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "the refusal does not name the live processes"; }
ok "a resume while the step's processes live refuses and names them"

for _ in $(seq 50); do no_process_with "$marker" 2>/dev/null && break; sleep 0.1; done
ms=$(( ($(date +%s%N) - killed) / 1000000 ))
no_process_with "$marker" || fail "processes of the step outlived the engine by 5 s"
ok "no process of the step is left ${ms} ms after kill -9 of the engine"

expect_exit 0 "$RUNBOOK" status "$TEST_TMP/kill.yaml"
grep -q "engine died (pid $pid is gone)" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not say the engine died"; }
grep -q "slow .*engine died" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not say the step's engine died"; }
ok "status tells the dead engine"

expect_exit 0 "$RUNBOOK" resume --yes "$TEST_TMP/kill.yaml"
grep -q "rerun" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the resume did not rerun the step"; }
ok "once its processes are gone, the resume reruns the step"

# A live engine is told apart: status during a run says it runs.
cat >"$TEST_TMP/live.yaml" <<YAML
name: livetest
steps:
  - id: wait
    run: sleep 3
YAML
"$RUNBOOK" run "$TEST_TMP/live.yaml" >/dev/null 2>&1 &
live=$!
sleep 1
expect_exit 0 "$RUNBOOK" status "$TEST_TMP/live.yaml"
grep -q "running (engine pid $live is alive)" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not say the engine runs"; }
grep -q "wait .* running" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status does not show the step running"; }
wait "$live"
ok "status tells a running engine"
echo "$pass_count passed, 0 failed"
