#!/usr/bin/env bash
# Losing the terminal (SIGHUP: the tmux session is killed) during a `sleep` step: the run goes on
# detached and finishes; a `resume --yes` meanwhile is refused (the run still holds its lock), and
# after the end there is nothing to resume: the step's side effect happened exactly once, never
# two copies at once. A question after the hangup stops the run resumably (exit 4), and the resume
# asks it without running the finished steps again.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"

cat >"$TEST_TMP/hup.yaml" <<YAML
name: huptest
steps:
  - id: before
    run: echo before
  - id: slow
    needs: [before]
    env:
      DIR: "$TEST_TMP"
    run: |
      mkdir "\$DIR/copy-running" || echo two-copies >>"\$DIR/doubles"
      echo started >>"\$DIR/starts"
      sleep 4
      echo effect >>"\$DIR/effects"
      echo printed-after-the-hangup
      rmdir "\$DIR/copy-running"
  - id: after
    needs: [slow]
    run: echo after
YAML

# start_in_tmux FILE: runs FILE in a new tmux session, as an operator on a terminal would.
start_in_tmux() {
  session="rb-e2e-hup-$$-$1"
  cleanup_hooks+=("tmux kill-session -t $session 2>/dev/null")
  tmux new-session -d -s "$session" -x 120 -y 30 \
    "RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' '$RUNBOOK' run '$TEST_TMP/$1.yaml'; sleep 600"
}

# wait_finished NAME: waits up to 30 s for the run's run_finished record.
wait_finished() {
  for _ in $(seq 300); do
    if grep -qs '"run_finished"' "$RUNBOOK_STATE_DIR/$1/runs/"*/journal.jsonl; then return 0; fi
    sleep 0.1
  done
  fail "the run of $1 did not finish within 30 s of the hangup"
}

start_in_tmux hup
for _ in $(seq 100); do [ -f "$TEST_TMP/starts" ] && break; sleep 0.1; done
[ -f "$TEST_TMP/starts" ] || fail "the slow step did not start"
tmux kill-session -t "$session"
sleep 0.5
expect_exit 4 "$RUNBOOK" resume --yes "$TEST_TMP/hup.yaml"
grep -q "locked by pid" "$TEST_TMP/last.err" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "resume during the detached run: not refused for the lock"; }
ok "a resume while the detached run goes on is refused (the run holds its lock)"
wait_finished huptest
expect_exit 0 "$RUNBOOK" status "$TEST_TMP/hup.yaml"
grep -q "after .*success" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the detached run did not finish its steps"; }
ok "after the hangup the run went on detached and finished"
expect_exit 4 "$RUNBOOK" resume --yes "$TEST_TMP/hup.yaml"
[ "$(wc -l <"$TEST_TMP/effects")" = 1 ] || fail "the step's side effect happened $(wc -l <"$TEST_TMP/effects") times"
[ "$(wc -l <"$TEST_TMP/starts")" = 1 ] || fail "the step started $(wc -l <"$TEST_TMP/starts") times"
[ ! -e "$TEST_TMP/doubles" ] || fail "two copies of the step ran at once"
ok "the step's side effect happened exactly once, never two copies at once"
grep -q "printed-after-the-hangup" "$(run_dir_of huptest)/logs/slow.log" || fail "the step's output after the hangup is not in its log"
ok "the step's output after the hangup is in its log"

cat >"$TEST_TMP/hupask.yaml" <<YAML
name: hupask
steps:
  - id: slow
    env:
      DIR: "$TEST_TMP"
    run: |
      echo ask-started >>"\$DIR/ask-starts"
      sleep 3
  - id: drop
    needs: [slow]
    confirm: "Drops the scratch table."
    env:
      DIR: "$TEST_TMP"
    run: echo dropped >>"\$DIR/dropped"
YAML
start_in_tmux hupask
for _ in $(seq 100); do [ -f "$TEST_TMP/ask-starts" ] && break; sleep 0.1; done
tmux kill-session -t "$session"
wait_finished hupask
grep -q '"exit_code":4' "$(run_dir_of hupask)/journal.jsonl" || { cat "$(run_dir_of hupask)/journal.jsonl"; fail "a question after the hangup did not stop the run with exit 4"; }
[ ! -e "$TEST_TMP/dropped" ] || fail "the unconfirmed step ran"
ok "a question after the hangup stops the run resumably (exit 4) without running the step"
expect_exit 0 "$RUNBOOK" resume --yes "$TEST_TMP/hupask.yaml"
[ "$(wc -l <"$TEST_TMP/ask-starts")" = 1 ] || fail "the resume ran the finished step again"
[ -e "$TEST_TMP/dropped" ] || fail "the resume did not run the confirmed step"
ok "resume --yes answers the question and does not rerun the finished step"
echo "$pass_count passed, 0 failed"
