#!/usr/bin/env bash
# Issue 15, the engine dies during a SQL step: the server runs the statement on (it notices a dead
# client only when it writes to it). Before the step runs again, `resume` ends that session, found
# by its application_name, and says so; `run --fresh` over the dead run does the same. Without
# that, the resumed step would run beside the first copy.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_app() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d app "$@"; }
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE app"

# The statement sleeps until the table `go` exists: the first copy sleeps, a rerun does not.
cat >"$TEST_TMP/dead.yaml" <<YAML
name: deadsql
databases:
  app: {conninfo: "host=$PG port=$port dbname=app user=postgres"}
steps:
  - id: slow
    sql:
      db: app
      query: SELECT pg_sleep(300) WHERE NOT EXISTS (SELECT FROM pg_tables WHERE tablename = 'go')
YAML
sessions_of_step() {
  psql_app -c "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'runbook/%/slow' AND state = 'active'"
}
# Starts the run (ARGS...), waits for its statement on the server, kills the engine with -9.
start_and_kill() {
  psql_app -c "DROP TABLE IF EXISTS go"
  "$RUNBOOK" run "$@" "$TEST_TMP/dead.yaml" >"$TEST_TMP/run.out" 2>&1 &
  local pid=$!
  for _ in $(seq 200); do [ -n "$(sessions_of_step)" ] && break; sleep 0.05; done
  [ -n "$(sessions_of_step)" ] || { cat "$TEST_TMP/run.out"; fail "the statement did not start"; }
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  sleep 1
  orphan=$(sessions_of_step)
  [ -n "$orphan" ] || fail "the statement ended with its engine: this test shows nothing"
  psql_app -c "CREATE TABLE go ()"
}

start_and_kill
ok "the statement of a kill -9'd engine runs on on the server (backend $orphan)"
start=$(date +%s)
expect_exit 0 "$RUNBOOK" resume --yes "$TEST_TMP/dead.yaml"
out=$(cat "$TEST_TMP/last.out" "$TEST_TMP/last.err")
grep -q "ended the session of step 'slow' of run .* (backend pid $orphan, active) on the server of database app" <<<"$out" ||
  { echo "$out"; fail "the resume does not say it ended the dead engine's session"; }
[ -z "$(sessions_of_step)" ] || fail "a session of the step is still on the server"
[ $(($(date +%s) - start)) -lt 30 ] || fail "the resume waited for the old statement"
ok "resume ends the dead engine's statement before the step runs again, and says so"

start_and_kill
expect_exit 0 "$RUNBOOK" run --fresh "$TEST_TMP/dead.yaml"
grep -q "ended the session of step 'slow' .*backend pid $orphan" "$TEST_TMP/last.out" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.out" "$TEST_TMP/last.err"; fail "run --fresh left the dead run's statement running"; }
[ -z "$(sessions_of_step)" ] || fail "a session of the step is still on the server after run --fresh"
ok "run --fresh over the dead run ends its statement too"
echo "PASS ($pass_count checks)"
