#!/usr/bin/env bash
# Issue 15, the engine dies during a step on an ssh host (a real sshd on loopback): the journal
# names the remote process group and that host's boot; a resume while a process of that group
# still runs on the host refuses, naming it; once it is gone, the resume reruns the step.
# A remote command outlives its engine while sshd has not noticed the lost client (a dropped
# network) or while it ignores SIGTERM; here the test stops the remote group (SIGSTOP) before
# killing the engine, so that nothing on the host ends it: the case of the dropped network.
source "$(dirname "$0")/lib/common.bash"
marker="rb-e2e-remote-kill9-$$"
sshdir="$TEST_TMP/sshd"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SOURCE_DIR/tests/harness/sshd.sh" start "$sshdir" "$port" $$ >/dev/null
cleanup_hooks+=("bash '$SOURCE_DIR/tests/harness/sshd.sh' stop '$sshdir'")
cleanup_hooks+=("pkill -KILL -f -- '$marker'")
{
  echo "name: remotekill"
  echo "hosts:"
  echo "  remote:"
  echo "    ssh: $(id -un)@127.0.0.1"
  echo "    port: $port"
  echo "    identity_file: $sshdir/id_ed25519"
  echo "    options:"
  sed 's/^/      - "/; s/$/"/' "$sshdir/ssh_options"
  echo "steps:"
  echo "  - id: slow"
  echo "    host: remote"
  # The marker travels as data (env on the session's input): only the inner sh's command line
  # holds it, not the ssh client's nor the remote wrapper's.
  echo "    env: {DIR: \"$TEST_TMP\", M: \"$marker\"}"
  echo "    run: |"
  echo "      if [ -f \"\$DIR/again\" ]; then echo rerun; exit 0; fi"
  echo "      touch \"\$DIR/again\""
  echo "      sh -c 'sleep 300; : \"\$1\"' sh \"\$M\""
} >"$TEST_TMP/remote.yaml"

"$RUNBOOK" run "$TEST_TMP/remote.yaml" >"$TEST_TMP/run.out" 2>&1 &
pid=$!
for _ in $(seq 200); do pgrep -f -- "$marker" >/dev/null && break; sleep 0.05; done
pgrep -f -- "$marker" >/dev/null || { cat "$TEST_TMP/run.out"; fail "the remote step did not start"; }
journal="$(run_dir_of remotekill)/journal.jsonl"
for _ in $(seq 100); do grep -q '"host":"remote"' "$journal" && break; sleep 0.05; done
record=$(grep '"type":"step_process"' "$journal" | grep '"host":"remote"') ||
  { cat "$journal"; fail "no step_process record names the ssh host"; }
pgid=$(sed 's/.*"pgid":\([0-9]*\).*/\1/' <<<"$record")
[ "$pgid" = "$(ps -o pgid= -p "$(pgrep -f -- "$marker" | head -1)" | tr -d ' ')" ] ||
  fail "the journaled group $pgid is not the remote command's"
grep -qF "\"boot_id\":\"$(cat /proc/sys/kernel/random/boot_id)\"" <<<"$record" || fail "the host's boot id is not journaled: $record"
ok "the journal records the remote process group ($pgid) and the host's boot id"

kill -STOP -- "-$pgid"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
sleep 1
pgrep -f -- "$marker" >/dev/null || fail "the stopped remote group ended: this test shows nothing"
expect_exit 4 "$RUNBOOK" resume --yes "$TEST_TMP/remote.yaml"
grep -q "step 'slow': process group $pgid on host remote: pid [0-9]* (s" "$TEST_TMP/last.out" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "the refusal does not name the live remote processes"; }
ok "a resume while the step's processes live on the ssh host refuses and names them"

kill -KILL -- "-$pgid"
group_alive() { ps -e -o pgid=,stat= | awk -v g="$pgid" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'; }
for _ in $(seq 50); do group_alive || break; sleep 0.1; done
! group_alive || fail "the remote group did not end on SIGKILL"
expect_exit 0 "$RUNBOOK" resume --yes "$TEST_TMP/remote.yaml"
grep -q "rerun" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the resume did not rerun the step"; }
ok "once they are gone, the resume reruns the step"
echo "$pass_count passed, 0 failed"
