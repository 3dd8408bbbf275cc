#!/usr/bin/env bash
# Ctrl-C inside a maintenance window (tmux: the operator's terminal): the finally steps marked
# `on_interrupt: run` still run after one Ctrl-C, the others wait for the resume; a second Ctrl-C
# stops those too. A finally step whose need did not succeed is skipped. `on_interrupt` on a step
# of `steps` is refused by validate, and the shipped upgrade-prod marks its restart steps.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"

cat >"$TEST_TMP/window.yaml" <<YAML
name: window
steps:
  - id: stop-web
    env: {DIR: "$TEST_TMP"}
    run: touch "\$DIR/web-down"
  - id: migrate
    needs: [stop-web]
    env: {DIR: "$TEST_TMP"}
    run: |
      [ ! -f "\$DIR/migrating" ] || exit 0
      touch "\$DIR/migrating"
      sleep 60
finally:
  - id: start-web
    needs: [stop-web]
    env: {DIR: "$TEST_TMP"}
    run: |
      [ ! -f "\$DIR/slow-restart" ] || { touch "\$DIR/restarting"; sleep 60; }
      rm -f "\$DIR/web-down"
    on_interrupt: run
  - id: check-site
    env: {DIR: "$TEST_TMP"}
    run: touch "\$DIR/checked"
  - id: report
    needs: [migrate]
    env: {DIR: "$TEST_TMP"}
    run: touch "\$DIR/reported"
YAML

# run_in_tmux: starts the run in a new tmux session; its exit code lands in $TEST_TMP/exit.
run_in_tmux() {
  rm -f "$TEST_TMP/exit"
  session="rb-e2e-int-$$-$1"
  cleanup_hooks+=("tmux kill-session -t $session 2>/dev/null")
  tmux new-session -d -s "$session" -x 120 -y 30 \
    "RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' '$RUNBOOK' run $2 '$TEST_TMP/window.yaml'; echo \$? >'$TEST_TMP/exit'; sleep 600"
}
wait_for() {
  for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
  tmux capture-pane -p -t "$session"; fail "$2"
}

run_in_tmux one ""
wait_for "$TEST_TMP/migrating" "migrate did not start"
sleep 0.3
tmux send-keys -t "$session" C-c
wait_for "$TEST_TMP/exit" "the run did not end after Ctrl-C"
[ "$(cat "$TEST_TMP/exit")" = 130 ] || fail "exit $(cat "$TEST_TMP/exit") after Ctrl-C, want 130"
[ ! -e "$TEST_TMP/web-down" ] || { tmux capture-pane -p -t "$session"; fail "after one Ctrl-C the web is still down"; }
[ ! -e "$TEST_TMP/checked" ] || fail "a finally step not marked on_interrupt: run ran after Ctrl-C"
grep -q "check-site" <<<"$(tmux capture-pane -p -t "$session" -S -100)" || fail "the screen does not name the finally step not run"
ok "after one Ctrl-C the on_interrupt: run step restored the web, the others did not run"

expect_exit 0 "$RUNBOOK" resume --yes "$TEST_TMP/window.yaml"
[ -e "$TEST_TMP/checked" ] && [ -e "$TEST_TMP/reported" ] || { cat "$TEST_TMP/last.out"; fail "the resume did not run every finally step"; }
ok "the resume runs every finally step"

# Two Ctrl-Cs: the second stops the restoring step too.
rm -f "$TEST_TMP/migrating"
touch "$TEST_TMP/slow-restart"
run_in_tmux two ""
wait_for "$TEST_TMP/migrating" "migrate did not start (second run)"
sleep 0.3
tmux send-keys -t "$session" C-c
wait_for "$TEST_TMP/restarting" "the on_interrupt: run step did not start after the first Ctrl-C"
sleep 0.3
start=$(date +%s%N)
tmux send-keys -t "$session" C-c
wait_for "$TEST_TMP/exit" "the run did not end after the second Ctrl-C"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(cat "$TEST_TMP/exit")" = 130 ] || fail "exit $(cat "$TEST_TMP/exit") after two Ctrl-Cs, want 130"
[ "$ms" -lt 3000 ] || fail "the second Ctrl-C took ${ms} ms to stop the finally step"
[ -e "$TEST_TMP/web-down" ] || fail "the restoring step finished despite the second Ctrl-C"
ok "a second Ctrl-C stops the on_interrupt: run step (${ms} ms)"
tmux kill-session -t "$session"

# needs on a finally step: skipped when the need did not succeed.
cat >"$TEST_TMP/needs.yaml" <<YAML
name: finneeds
steps:
  - id: work
    run: exit 3
finally:
  - id: after-work
    needs: [work]
    run: echo after-work-ran
  - id: always
    run: echo always-ran
YAML
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/needs.yaml"
grep -q "always-ran" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "a finally step without needs did not run"; }
! grep -q "after-work-ran" "$TEST_TMP/last.out" || fail "a finally step whose need failed ran"
grep -q '"step":"after-work".*"outcome":"skipped"\|"outcome":"skipped".*"step":"after-work"' "$(run_dir_of finneeds)/journal.jsonl" ||
  fail "the skipped finally step is not journaled as skipped"
ok "a finally step whose need failed is skipped and journaled so"

cat >"$TEST_TMP/bad.yaml" <<YAML
name: bad
steps:
  - id: work
    run: "true"
    on_interrupt: run
YAML
expect_exit 2 "$RUNBOOK" validate "$TEST_TMP/bad.yaml"
grep -q "bad.yaml:5:.*'on_interrupt' is for finally steps" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "on_interrupt on a step of steps: no located refusal"; }
ok "validate refuses on_interrupt on a step of steps, with its location"

expect_exit 0 "$RUNBOOK" validate "$SOURCE_DIR/runbooks/upgrade-prod.yaml"
for id in ensure-web-started ensure-indexers-started; do
  awk -v id="$id" '$0 ~ "- id: "id"$" {inside=1; next} /- id:/ {inside=0} inside && /on_interrupt: run/ {found=1} END {exit !found}' \
    "$SOURCE_DIR/runbooks/upgrade-prod.yaml" || fail "upgrade-prod's $id is not marked on_interrupt: run"
done
ok "upgrade-prod marks its restart steps on_interrupt: run"
echo "$pass_count passed, 0 failed"
