#!/usr/bin/env bash
# Reattaching from any terminal (issue 15's "losing the terminal"): a run whose terminal is gone
# (its tmux session killed: SIGHUP) goes on detached; `status --follow` and `logs --follow` from
# another shell print its steps and new log lines as they come, and exit with the run's exit code
# when it ends. Ctrl-C of a follower stops the following only: the run goes on.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"

cat >"$TEST_TMP/fol.yaml" <<YAML
name: followed
steps:
  - id: before
    run: echo before
  - id: slow
    needs: [before]
    env:
      DIR: "$TEST_TMP"
    run: |
      echo started >>"\$DIR/starts"
      echo printed-before-the-hangup
      while [ ! -f "\$DIR/release" ]; do sleep 0.05; done
      echo printed-after-the-hangup
  - id: last
    needs: [slow]
    run: echo last-fails; exit 3
YAML

session="rb-e2e-follow-$$"
cleanup_hooks+=("tmux kill-session -t $session 2>/dev/null")
tmux new-session -d -s "$session" -x 120 -y 30 \
  "RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' '$RUNBOOK' run '$TEST_TMP/fol.yaml'; sleep 600"
for _ in $(seq 100); do [ -f "$TEST_TMP/starts" ] && break; sleep 0.1; done
[ -f "$TEST_TMP/starts" ] || fail "the slow step did not start"
tmux kill-session -t "$session"
run_id=$(basename "$(run_dir_of followed)")

# Another shell: three followers of the detached run.
"$RUNBOOK" status --follow "$run_id" >"$TEST_TMP/status.out" 2>"$TEST_TMP/status.err" &
status_pid=$!
"$RUNBOOK" logs --follow "$run_id" slow >"$TEST_TMP/logs.out" 2>"$TEST_TMP/logs.err" &
logs_pid=$!
"$RUNBOOK" logs -f "$run_id" >"$TEST_TMP/stopped.out" 2>"$TEST_TMP/stopped.err" &
stopped_pid=$!
for _ in $(seq 100); do
  grep -qs "printed-before-the-hangup" "$TEST_TMP/logs.out" && grep -qs "slow .*running" "$TEST_TMP/status.out" &&
    grep -qs "printed-before-the-hangup" "$TEST_TMP/stopped.out" && break
  sleep 0.1
done
grep -q "printed-before-the-hangup" "$TEST_TMP/logs.out" || { cat "$TEST_TMP/logs.out" "$TEST_TMP/logs.err"; fail "logs --follow does not show the running step's log so far"; }
grep -q "slow .*running" "$TEST_TMP/status.out" || { cat "$TEST_TMP/status.out"; fail "status --follow does not start with the run's status"; }
kill -INT "$stopped_pid"
set +e; wait "$stopped_pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C of a follower: exit $rc, not 130"
grep -q "stopped following run $run_id; it goes on" "$TEST_TMP/stopped.err" || { cat "$TEST_TMP/stopped.err"; fail "Ctrl-C of a follower does not say the run goes on"; }
ok "followers reattach to the detached run; Ctrl-C of one stops following only"

touch "$TEST_TMP/release"
set +e; wait "$status_pid"; status_rc=$?; wait "$logs_pid"; logs_rc=$?; set -e
[ "$status_rc" = 1 ] || { cat "$TEST_TMP/status.out" "$TEST_TMP/status.err"; fail "status --follow exited $status_rc, not the run's 1"; }
[ "$logs_rc" = 1 ] || { cat "$TEST_TMP/logs.out" "$TEST_TMP/logs.err"; fail "logs --follow exited $logs_rc, not the run's 1"; }
python3 - "$TEST_TMP/status.out" <<'PY' || { cat "$TEST_TMP/status.out"; fail "status --follow did not show the run's progress in order"; }
import sys
out = open(sys.argv[1]).read()
want = ["[slow] ", "printed-after-the-hangup", "= slow success", "> last", "[last] ", "last-fails",
        "= last failure", "run ", "ended: failure (exit 1)"]
at = 0
for w in want:
    found = out.find(w, at)
    assert found >= 0, (w, out[at:])
    at = found + len(w)
assert "printed-before-the-hangup" not in out.split("following")[-1], "status --follow repeated old lines"
PY
grep -q "printed-after-the-hangup" "$TEST_TMP/logs.out" || { cat "$TEST_TMP/logs.out"; fail "logs --follow STEP missed a new line"; }
grep -q "last-fails\|\[last\]" "$TEST_TMP/logs.out" && { cat "$TEST_TMP/logs.out"; fail "logs --follow STEP showed another step's lines"; }
ok "status --follow and logs --follow print new lines and steps, and exit with the run's exit code"
grep -q '"run_finished"' "$(run_dir_of followed)/journal.jsonl" || fail "the run did not finish"
ok "the run went on after the follower's Ctrl-C"

# A finished run: following ends at once with its exit code; a step the run lacks is refused.
expect_exit 1 "$RUNBOOK" status --follow "$run_id"
expect_exit 4 "$RUNBOOK" logs --follow "$run_id" no-such-step
grep -q "has no step 'no-such-step'" "$TEST_TMP/last.err" || fail "an unknown step is not named"
ok "a finished run's follower exits with its code at once; an unknown step is refused"
echo "$pass_count passed, 0 failed"
