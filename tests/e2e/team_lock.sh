#!/usr/bin/env bash
# Issue 16, the lock on every target: two operators (separate HOMEs and state directories) run
# runbooks that share a lock against one PostgreSQL 15 server. The second is refused with exit 4
# naming the holder (OS user, host, pid, run id), succeeds once the first ends, and within
# seconds of a kill -9 of the first. postgres_idle holds on the server while the run's only
# session there is its own lock connection, which cancel_queries leaves alone.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_admin() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d postgres "$@"; }
psql_admin -c "CREATE DATABASE app"

# Operator A's runbook holds the server until $TEST_TMP/release exists.
cat >"$TEST_TMP/hold.yaml" <<YAML
name: hold
lock: app-maintenance
databases:
  app: {conninfo: "host=$PG port=$port dbname=app user=postgres"}
steps:
  - id: write
    sql: {db: app, query: "CREATE TABLE IF NOT EXISTS t (v int)"}
  - id: wait
    needs: [write]
    run: touch "$TEST_TMP/holding"; while [ ! -f "$TEST_TMP/release" ]; do sleep 0.05; done
YAML
# Operator B's runbook shares the lock (another name, another database of the same server).
cat >"$TEST_TMP/other.yaml" <<YAML
name: other
lock: app-maintenance
databases:
  admin: {conninfo: "host=$PG port=$port dbname=postgres user=postgres"}
steps:
  - id: lock-sessions
    guards:
      - postgres_idle: {db: admin, max_active: 0}
    run: >-
      n=\$(psql -X -A -t -h "$PG" -p $port -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_activity
      WHERE application_name LIKE 'runbook/% lock %'"); echo "lock sessions: \$n"; [ "\$n" = 1 ]
  - id: cancel-others
    needs: [lock-sessions]
    cancel_queries: {db: admin}
YAML

as_operator() {  # NAME CMD...: with the operator's own HOME and state directory
  local who=$1; shift
  mkdir -p "$TEST_TMP/$who"
  HOME="$TEST_TMP/$who" RUNBOOK_STATE_DIR="$TEST_TMP/$who/state" "$@"
}
start_holder() {
  rm -f "$TEST_TMP/holding" "$TEST_TMP/release"
  mkdir -p "$TEST_TMP/alice"
  HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" \
    "$RUNBOOK" run --fresh "$TEST_TMP/hold.yaml" >"$TEST_TMP/alice.out" 2>&1 &
  holder=$!
  for _ in $(seq 200); do [ -f "$TEST_TMP/holding" ] && break; sleep 0.05; done
  [ -f "$TEST_TMP/holding" ] || { cat "$TEST_TMP/alice.out"; fail "operator A's run did not start"; }
}

start_holder
expect_exit 4 as_operator bob "$RUNBOOK" run "$TEST_TMP/other.yaml"
msg=$(cat "$TEST_TMP/last.out" "$TEST_TMP/last.err")
alice_run=$(basename "$(ls -d "$TEST_TMP/alice/state/hold/runs/"*)")
for want in "lock 'app-maintenance'" "pid $holder" "run $alice_run" "$(id -un)@$(hostname)" "since "; do
  grep -qF -- "$want" <<<"$msg" || { echo "$msg"; fail "the refusal does not say '$want'"; }
done
[ ! -d "$TEST_TMP/bob/state/other/runs" ] || [ -z "$(ls -A "$TEST_TMP/bob/state/other/runs")" ] ||
  fail "the refused run left a run behind: $(ls "$TEST_TMP/bob/state/other/runs")"
ok "a second operator (another HOME and state directory) is refused with exit 4 naming the holder"

expect_exit 4 as_operator bob "$RUNBOOK" plan "$TEST_TMP/other.yaml"
grep -qF "the lock 'app-maintenance' on the server of database admin is held by" "$TEST_TMP/last.out" &&
  grep -qF "(pid $holder, run " "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "the plan does not say that the server's lock is held"; }
as_operator bob "$RUNBOOK" plan "$TEST_TMP/other.yaml" --format json >"$TEST_TMP/plan.json" || true
python3 - "$TEST_TMP/plan.json" <<'PY' || fail "the JSON plan does not name the holder on the database"
import json, sys
plan = json.load(open(sys.argv[1]))
assert plan["verdict"] == "refused", plan["verdict"]
assert "pid " in plan["databases"][0]["locked_by"], plan["databases"]
PY
ok "plan from the other operator says the run would be refused, naming the holder"

expect_exit 4 as_operator bob "$RUNBOOK" run "$TEST_TMP/hold.yaml"
grep -qF "pid $holder" "$TEST_TMP/last.out" "$TEST_TMP/last.err" || fail "the same runbook from another state directory was not refused naming the holder"
ok "the same runbook from another state directory is refused too"

touch "$TEST_TMP/release"
wait $holder || { cat "$TEST_TMP/alice.out"; fail "operator A's run failed"; }
expect_exit 0 as_operator bob "$RUNBOOK" run "$TEST_TMP/other.yaml"
grep -q "postgres is idle" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "postgres_idle did not report an idle server"; }
bob_run=$(basename "$(ls -d "$TEST_TMP/bob/state/other/runs/"*)")
log="$TEST_TMP/bob/state/other/runs/$bob_run/logs/lock-sessions.log"
grep -q "lock sessions: 1" "$log" || { cat "$log"; fail "the run's lock connection was not open in the maintenance database"; }
grep -q "cancelled 0 queries" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "cancel_queries counted the run's own lock connection"; }
ok "once the first run ends the second runs; postgres_idle holds beside its own lock connection"

start_holder
kill -9 $holder; wait $holder 2>/dev/null || true
touch "$TEST_TMP/release"  # ends the orphaned step
t0=$(date +%s%N)
until as_operator bob "$RUNBOOK" run --fresh "$TEST_TMP/other.yaml" >"$TEST_TMP/last.out" 2>&1; do
  [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ] || { cat "$TEST_TMP/last.out"; fail "still refused 10 s after kill -9 of the holder"; }
  sleep 0.2
done
ok "after kill -9 of the holder the lock is free within $(( ($(date +%s%N) - t0) / 1000000 )) ms"
echo "$pass_count passed, 0 failed"
