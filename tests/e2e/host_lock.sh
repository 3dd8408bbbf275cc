#!/usr/bin/env bash
# Issue 16, the lock on ssh hosts (a real sshd on loopback): two operators (separate HOMEs and
# state directories) run a runbook whose slow step runs on the host. The second is refused with
# exit 4 naming the holder as its lock file says (OS user, host, pid, run id), before any step
# and leaving no run behind; a runbook with another lock name on the same host runs meanwhile;
# after a kill -9 of the first engine the second succeeds within seconds. The host is in the
# runbook twice (a second name, without multiplexing): the run recognises its own lock there.
#
# The lock file is under the ssh user's home (~/.cache/runbook/locks), the real one of the user
# running the test: the lock name is unique to this test's process, and its file is removed.
source "$(dirname "$0")/lib/common.bash"
marker="rb-e2e-host-lock-$$"
lock="hostlock-$$"
remote_home=$(getent passwd "$(id -un)" | cut -d: -f6)
lock_file="$remote_home/.cache/runbook/locks/$lock.lock"
sshdir="$TEST_TMP/sshd"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SOURCE_DIR/tests/harness/sshd.sh" start "$sshdir" "$port" $$ >/dev/null
cleanup_hooks+=("bash '$SOURCE_DIR/tests/harness/sshd.sh' stop '$sshdir'")
cleanup_hooks+=("pkill -KILL -f -- '$marker'")
cleanup_hooks+=("rm -f '$lock_file' '$remote_home/.cache/runbook/locks/other-$lock.lock'")

hosts() {  # the same sshd as `remote`, and as `remote-again` without a master connection
  echo "hosts:"
  for name in remote remote-again; do
    echo "  $name:"
    echo "    ssh: $(id -un)@127.0.0.1"
    echo "    port: $port"
    echo "    identity_file: $sshdir/id_ed25519"
    [ "$name" = remote ] || echo "    multiplex: false"
    echo "    options:"
    sed 's/^/      - "/; s/$/"/' "$sshdir/ssh_options"
  done
}
{
  echo "name: hostlock"
  echo "lock: $lock"
  echo "params: {secs: {type: integer, default: 300}}"
  hosts
  echo "steps:"
  echo "  - id: first"
  echo "    host: remote-again"
  echo "    run: echo first"
  echo "  - id: slow"
  echo "    needs: [first]"
  echo "    host: remote"
  # The marker travels as data: only the inner sh's command line holds it.
  echo "    env: {M: \"$marker\"}"
  echo "    run: |"
  echo "      sh -c 'sleep \"\$RUNBOOK_PARAM_SECS\"; : \"\$1\"' sh \"\$M\""
  echo "      echo slow-done"
} >"$TEST_TMP/hostlock.yaml"
{
  echo "name: hostlock-other"
  echo "lock: other-$lock"
  hosts
  echo "steps:"
  echo "  - {id: quick, host: remote, run: echo other-ran}"
} >"$TEST_TMP/other.yaml"

as_operator() {  # NAME CMD...: with the operator's own HOME and state directory
  local who=$1; shift
  mkdir -p "$TEST_TMP/$who"
  HOME="$TEST_TMP/$who" RUNBOOK_STATE_DIR="$TEST_TMP/$who/state" "$@"
}

mkdir -p "$TEST_TMP/alice"
HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" \
  "$RUNBOOK" run "$TEST_TMP/hostlock.yaml" >"$TEST_TMP/alice.out" 2>&1 &
holder=$!
for _ in $(seq 200); do pgrep -f -- "$marker" >/dev/null && break; sleep 0.05; done
pgrep -f -- "$marker" >/dev/null || { cat "$TEST_TMP/alice.out"; fail "operator A's slow step did not start"; }
alice_run=$(basename "$(ls -d "$TEST_TMP/alice/state/hostlock/runs/"*)")
grep -q "not taken" "$TEST_TMP/alice.out" && { cat "$TEST_TMP/alice.out"; fail "operator A's run did not lock the host"; }
[[ "$(cat "$lock_file" 2>&1)" == "runbook/$alice_run lock $holder "*" $(id -un)@$(hostname)" ]] ||
  fail "the lock file does not name the holder: $(cat "$lock_file" 2>&1)"
ok "the run holds the lock on the host (reached under two names), its file names the holder"

expect_exit 4 as_operator bob "$RUNBOOK" run --set secs=0 "$TEST_TMP/hostlock.yaml"
msg=$(cat "$TEST_TMP/last.out" "$TEST_TMP/last.err")
for want in "lock '$lock' on host remote" "$(id -un)@$(hostname)" "pid $holder" "run $alice_run" \
  "since " "no step was run"; do
  grep -qF -- "$want" <<<"$msg" || { echo "$msg"; fail "the refusal does not say '$want'"; }
done
grep -q "first" "$TEST_TMP/last.out" && { echo "$msg"; fail "a step of the refused run ran"; }
[ ! -d "$TEST_TMP/bob/state/hostlock/runs" ] || [ -z "$(ls -A "$TEST_TMP/bob/state/hostlock/runs")" ] ||
  fail "the refused run left a run behind: $(ls "$TEST_TMP/bob/state/hostlock/runs")"
ok "a second operator's run of the same runbook is refused with exit 4 naming the holder, leaving no run"

expect_exit 0 as_operator bob "$RUNBOOK" run "$TEST_TMP/other.yaml"
grep -q "other-ran" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the other lock's step did not run"; }
ok "a runbook with another lock name runs on the host meanwhile"

kill -9 "$holder"
wait "$holder" 2>/dev/null || true
t0=$(date +%s%N)
until as_operator bob "$RUNBOOK" run --set secs=0 "$TEST_TMP/hostlock.yaml" >"$TEST_TMP/last.out" 2>&1; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ] || { cat "$TEST_TMP/last.out"; fail "still refused 10 s after kill -9 of the holder"; }
  sleep 0.2
done
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q "slow-done" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the second run did not run its steps"; }
ok "after kill -9 of the holder the second operator's run succeeds within $elapsed ms"
[ ! -s "$lock_file" ] || fail "the lock file still names a holder after the run: $(cat "$lock_file")"
ok "the lock file is emptied when the run ends"
echo "$pass_count passed, 0 failed"
