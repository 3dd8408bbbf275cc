#!/usr/bin/env bash
# Issue 16: a colleague follows a run from another machine through the team's state store
# (PostgreSQL 15). Step logs stream into the store while the step runs, masked as in the files:
# operator B (another HOME, another state directory) sees the lines of operator A's running step
# within seconds with `logs --follow --state URL`, and `status --follow` ends with the run's exit
# code.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_store() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d ops "$@"; }
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops"
export RUNBOOK_STATE_URL="postgresql://postgres@127.0.0.1:$port/ops"
export RB_TEST_TOKEN="s3cr3t-$$-plugh"

cat >"$TEST_TMP/stream.yaml" <<YAML
name: streamed
secrets:
  token: {env: RB_TEST_TOKEN}
steps:
  - id: slow
    env:
      DIR: "$TEST_TMP"
      TOKEN: "\${{ secrets.token }}"
    run: |
      echo "first line says \$TOKEN"
      date +%s.%N >"\$DIR/printed"
      while [ ! -f "\$DIR/release" ]; do sleep 0.05; done
      echo second line
  - id: after
    needs: [slow]
    run: echo after
YAML
mkdir -p "$TEST_TMP/alice" "$TEST_TMP/bob"
HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" \
  "$RUNBOOK" run "$TEST_TMP/stream.yaml" >"$TEST_TMP/alice.out" 2>&1 &
alice=$!
for _ in $(seq 200); do [ -f "$TEST_TMP/printed" ] && break; sleep 0.05; done
[ -f "$TEST_TMP/printed" ] || { cat "$TEST_TMP/alice.out"; fail "the slow step did not start"; }

export HOME="$TEST_TMP/bob" RUNBOOK_STATE_DIR="$TEST_TMP/bob/state"
run_id=$(psql_store -c "SELECT run_id FROM runbook.runs WHERE runbook = 'streamed'")
"$RUNBOOK" logs --follow "$run_id" >"$TEST_TMP/bob-logs.out" 2>"$TEST_TMP/bob-logs.err" &
logs_pid=$!
"$RUNBOOK" status --follow "$run_id" >"$TEST_TMP/bob-status.out" 2>"$TEST_TMP/bob-status.err" &
status_pid=$!
for _ in $(seq 100); do grep -qs "first line says" "$TEST_TMP/bob-logs.out" && break; sleep 0.05; done
seen=$(date +%s.%N)
grep -q "first line says \*\*\*" "$TEST_TMP/bob-logs.out" ||
  { cat "$TEST_TMP/bob-logs.out" "$TEST_TMP/bob-logs.err"; fail "B does not see the running step's line (masked) through the store"; }
[ ! -f "$TEST_TMP/release" ] || fail "the step ended before B saw its line"
lag=$(python3 -c "print(round($seen - $(cat "$TEST_TMP/printed"), 2))")
python3 -c "import sys; sys.exit(0 if $lag < 3 else 1)" || fail "B saw the line ${lag}s after it was printed"
ok "a running step's line reaches a colleague's logs --follow through the store in ${lag}s, masked"
if psql_store -c "SELECT encode(data, 'escape') FROM runbook.log_chunks" | grep -q "$RB_TEST_TOKEN"; then
  fail "the secret reached the store"
fi
[ "$(psql_store -c "SELECT count(*) FROM runbook.log_chunks WHERE run_id = '$run_id' AND step = 'slow'")" -ge 1 ] ||
  fail "no piece of the running step's log in the store"
ok "the running step's log is in the store in pieces, the secret masked"

touch "$TEST_TMP/release"
wait "$alice" || { cat "$TEST_TMP/alice.out"; fail "A's run failed"; }
set +e; wait "$logs_pid"; logs_rc=$?; wait "$status_pid"; status_rc=$?; set -e
[ "$logs_rc" = 0 ] && [ "$status_rc" = 0 ] || { cat "$TEST_TMP"/bob-*; fail "followers exited $logs_rc and $status_rc, not the run's 0"; }
grep -q "\[slow\] .*second line" "$TEST_TMP/bob-logs.out" || { cat "$TEST_TMP/bob-logs.out"; fail "B's logs --follow missed the step's last line"; }
grep -q "= after success" "$TEST_TMP/bob-status.out" || { cat "$TEST_TMP/bob-status.out"; fail "B's status --follow missed a step's end"; }
grep -q "ended: success (exit 0)" "$TEST_TMP/bob-status.out" || { cat "$TEST_TMP/bob-status.out"; fail "B's status --follow did not see the run end"; }
cmp <("$RUNBOOK" logs "$run_id" slow) "$TEST_TMP/alice/state/streamed/runs/$run_id/logs/slow.log" ||
  fail "the log streamed into the store differs from A's file"
ok "B's followers end with the run's exit code; the streamed log is byte for byte A's file"
echo "$pass_count passed, 0 failed"
