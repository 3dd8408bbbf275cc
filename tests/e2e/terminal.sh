#!/usr/bin/env bash
# The operator's screen and the night's log file.
# In a real terminal (tmux): a confirm question, then a manual step's question, stays visible and
# the screen does not change while it waits (no spinner redrawing over it); answering y continues
# and the run succeeds.
# Output to a file: a step's start line and its output reach the file while the step still runs,
# and a silent step gets a heartbeat line.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"

cat >"$TEST_TMP/ask.yaml" <<YAML
name: asktest
steps:
  - id: prepare
    run: echo prepared
  - id: drop
    needs: [prepare]
    confirm: "Drops the scratch table."
    run: echo dropped
  - id: check
    needs: [drop]
    manual: "Check that the site still renders."
YAML

# question_stays TEXT WHAT: after 3 s TEXT and the question are on screen, and unchanged 1 s later.
question_stays() {
  sleep 3
  local first second
  first=$(tmux capture-pane -p -t "$session")
  grep -qF "$1" <<<"$first" || { echo "$first"; fail "$2: its text is not on screen after 3 s"; }
  grep -qF "[y/N]" <<<"$(grep -A3 -F "$1" <<<"$first")" || { echo "$first"; fail "$2: the question is not on screen after 3 s"; }
  ok "$2: the question and what it asks about are visible after 3 s"
  sleep 1
  second=$(tmux capture-pane -p -t "$session")
  [ "$first" = "$second" ] || { diff <(echo "$first") <(echo "$second") || true; fail "$2: the screen changed while the question waited"; }
  ok "$2: the screen is unchanged while the question waits"
}

session="rb-e2e-term-$$"
cleanup_hooks+=("tmux kill-session -t $session 2>/dev/null")
# A colour terminal: the spinner would run if nothing stopped it while the question waits.
tmux new-session -d -s "$session" -x 120 -y 30 \
  "env -u NO_COLOR TERM=xterm-256color RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' '$RUNBOOK' run '$TEST_TMP/ask.yaml'; echo \"exit=\$?\"; sleep 600"
question_stays "Drops the scratch table." "confirm"
grep -qF "Proceed? [y/N]" <<<"$(tmux capture-pane -p -t "$session")" || fail "confirm: no 'Proceed? [y/N]'"
tmux send-keys -t "$session" y Enter
question_stays "Check that the site still renders." "manual step"
tmux send-keys -t "$session" y Enter
for _ in $(seq 100); do
  screen=$(tmux capture-pane -p -t "$session")
  grep -q "^exit=" <<<"$screen" && break
  sleep 0.1
done
grep -q "^exit=0" <<<"$screen" || { echo "$screen"; fail "answering y did not finish the run with exit 0"; }
grep -q "dropped" <<<"$screen" || { echo "$screen"; fail "the confirmed step did not run"; }
grep -q "check .*done\|check .*success" <<<"$screen" || { echo "$screen"; fail "the manual step did not finish"; }
ok "answering y continues and the run succeeds"

# Output to a file while a step runs.
cat >"$TEST_TMP/slow.yaml" <<YAML
name: slowtest
steps:
  - id: slow
    run: |
      echo started-the-work
      sleep 4
      echo finished-the-work
YAML
"$RUNBOOK" run "$TEST_TMP/slow.yaml" --heartbeat 2s >"$TEST_TMP/slow.out" 2>&1 &
pid=$!
sleep 3.2
grep -q "> slow" "$TEST_TMP/slow.out" || { cat "$TEST_TMP/slow.out"; fail "the step's start line is not in the file while it runs"; }
grep -q "started-the-work" "$TEST_TMP/slow.out" || { cat "$TEST_TMP/slow.out"; fail "the step's output is not in the file while it runs"; }
ok "the step's line and its output reach the file while the step runs"
grep -q "slow still running after .*, no output for " "$TEST_TMP/slow.out" || { cat "$TEST_TMP/slow.out"; fail "no heartbeat line for a step silent for 2 s"; }
ok "a silent step gets a heartbeat line"
grep -q "finished-the-work" "$TEST_TMP/slow.out" && fail "the step ended too early for this test to mean anything"
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 0 ] || { cat "$TEST_TMP/slow.out"; fail "the slow run exited $rc"; }
expect_exit 2 "$RUNBOOK" run "$TEST_TMP/slow.yaml" --heartbeat 30
grep -q "heartbeat" "$TEST_TMP/last.err" || fail "a bad --heartbeat is not named"
ok "a bad --heartbeat is refused with exit 2"
echo "passed: $pass_count"
