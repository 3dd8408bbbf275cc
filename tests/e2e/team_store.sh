#!/usr/bin/env bash
# Issue 16, the team's state store in PostgreSQL 15 (first piece): `state init` (and its SQL for a
# DBA), `state import` of an operator's state directory, and `history`, `status` and `logs` of
# another operator against the store, runs recorded there as they go, and the store stopped during
# a step (pg_ctl stop -m fast), then back for the resume. A secret never reaches it.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_store() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d ops "$@"; }
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops"
URL="postgresql://postgres@127.0.0.1:$port/ops"

expect_exit 4 "$RUNBOOK" history --state "$URL"
grep -q "runbook state init" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "a store without schema does not say how to create it"; }
expect_exit 0 "$RUNBOOK" state init --print-sql
grep -q "CREATE SCHEMA IF NOT EXISTS runbook" "$TEST_TMP/last.out" || fail "--print-sql printed no schema"
cp "$TEST_TMP/last.out" "$TEST_TMP/schema.sql"
psql_store -v ON_ERROR_STOP=1 -f "$TEST_TMP/schema.sql" 2>/dev/null
psql_store -v ON_ERROR_STOP=1 -f "$TEST_TMP/schema.sql" 2>/dev/null  # a second time: harmless
[ "$(psql_store -c "SELECT value FROM runbook.meta WHERE key = 'schema_version'")" = 2 ] || fail "the printed SQL records no schema version 2"
expect_exit 0 "$RUNBOOK" state init --state "$URL"
grep -q "version 2" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "state init does not say the version"; }
ok "state init --print-sql gives a DBA the SQL (applied twice); state init on an initialised store is harmless"

export RB_TEST_TOKEN="s3cr3t-$$-xyzzy"
cat >"$TEST_TMP/work.yaml" <<'YAML'
name: work
secrets:
  token: {env: RB_TEST_TOKEN}
steps:
  - id: first
    env: {TOKEN: "${{ secrets.token }}"}
    run: echo "first says $TOKEN"; printf 'bytes \377 end\n'
  - id: second
    needs: [first]
    run: echo "second fails"; exit 3
YAML
mkdir -p "$TEST_TMP/alice"
HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" expect_exit 1 "$RUNBOOK" run "$TEST_TMP/work.yaml"
run_id=$(basename "$(ls -d "$TEST_TMP/alice/state/work/runs/"*)")
expect_exit 0 "$RUNBOOK" state import "$TEST_TMP/alice/state" --state "$URL"
grep -q "imported 1 run;" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "the run was not imported"; }
expect_exit 0 "$RUNBOOK" state import "$TEST_TMP/alice/state" --state "$URL"
grep -q "imported 0 runs; 1 already in the store" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "a second import did not leave the run alone"; }
ok "state import copies a state directory's runs once"

export RUNBOOK_STATE_URL="$URL"  # operator B: another HOME, an empty state directory
mkdir -p "$TEST_TMP/bob"
export HOME="$TEST_TMP/bob" RUNBOOK_STATE_DIR="$TEST_TMP/bob/state"
expect_exit 0 "$RUNBOOK" history --format json
python3 - "$TEST_TMP/last.out" "$run_id" <<'PY' || fail "history from the store is not the run"
import json, sys
runs = json.load(open(sys.argv[1]))
assert [(r["run_id"], r["outcome"], r["steps_done"], r["steps"]) for r in runs] == [(sys.argv[2], "failure", 1, 2)], runs
PY
expect_exit 0 "$RUNBOOK" status "$run_id"
grep -q "second .*failure" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "status from the store does not show the failed step"; }
expect_exit 0 "$RUNBOOK" logs "$run_id"
grep -q "first says \*\*\*" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "logs from the store do not show the masked output"; }
cmp <("$RUNBOOK" logs "$run_id" first) "$TEST_TMP/alice/state/work/runs/$run_id/logs/first.log" || fail "a log read from the store differs from the file"
ok "another operator's history, status and logs read the run from the store (bytes kept)"

# Operator B runs against the store: each record is there when the step is done.
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/work.yaml" --fresh
b_run=$(basename "$(ls -d "$TEST_TMP/bob/state/work/runs/"*)")
expect_exit 0 "$RUNBOOK" history --format json
python3 - "$TEST_TMP/last.out" "$b_run" <<'PY' || fail "history from the store does not list the run recorded there"
import json, sys
runs = json.load(open(sys.argv[1]))
assert (sys.argv[2], "failure", 1, 2) in [(r["run_id"], r["outcome"], r["steps_done"], r["steps"]) for r in runs], runs
PY
[ "$(psql_store -c "SELECT count(*) FROM runbook.records WHERE run_id = '$b_run'")" = "$(wc -l <"$TEST_TMP/bob/state/work/runs/$b_run/journal.jsonl")" ] ||
  fail "the store does not hold every record of the local journal"
cmp <(HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" "$RUNBOOK" logs "$b_run" first) "$TEST_TMP/bob/state/work/runs/$b_run/logs/first.log" ||
  fail "operator A cannot read operator B's log from the store"
ok "a run with the store records its journal and logs there; another operator lists and reads it"

# history says who started each run and which steps were chosen, from the store and from the
# state directory alike.
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/work.yaml" --fresh --only first
only_run=$(ls "$TEST_TMP/bob/state/work/runs/" | grep -vx "$b_run")
me="$(id -un)@$(hostname)"
for store in "$URL" ""; do
  RUNBOOK_STATE_URL="$store" expect_exit 0 "$RUNBOOK" history
  grep "^$only_run " "$TEST_TMP/last.out" | grep -q " $me  *success  *1/2 steps  --only first$" ||
    { cat "$TEST_TMP/last.out"; fail "history${store:+ from the store} does not show who chose which steps"; }
  grep "^$b_run " "$TEST_TMP/last.out" | grep -q " $me  *failure  *1/2 steps$" ||
    { cat "$TEST_TMP/last.out"; fail "history${store:+ from the store} shows a choice of steps where none was made"; }
  RUNBOOK_STATE_URL="$store" expect_exit 0 "$RUNBOOK" history --format json
  python3 - "$TEST_TMP/last.out" "$only_run" "$(id -un)" "$(hostname)" <<'PY' || fail "history --format json${store:+ from the store} does not say who chose which steps"
import json, sys
runs = {r["run_id"]: r for r in json.load(open(sys.argv[1]))}
r = runs[sys.argv[2]]
assert (r["user"], r["host"], r["only"]) == (sys.argv[3], sys.argv[4], ["first"]), r
assert all("only" not in o and "from" not in o for i, o in runs.items() if i != sys.argv[2]), runs
PY
done
ok "history shows who started each run and the steps chosen (text and JSON, store and state directory)"

# The store stops (pg_ctl stop -m fast) while a step runs: the step finishes, no new step starts,
# exit 4; once the store is back a resume copies what it missed and completes, repeating nothing.
cat >"$TEST_TMP/long.yaml" <<YAML
name: long
steps:
  - id: one
    run: 'true'
  - id: two
    needs: [one]
    run: touch "$TEST_TMP/holding"; while [ ! -f "$TEST_TMP/release" ]; do sleep 0.05; done
  - id: three
    needs: [two]
    run: echo three
YAML
pg_ctl_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
"$RUNBOOK" run "$TEST_TMP/long.yaml" >"$TEST_TMP/long.out" 2>&1 &
runner=$!
for _ in $(seq 200); do [ -f "$TEST_TMP/holding" ] && break; sleep 0.05; done
[ -f "$TEST_TMP/holding" ] || { cat "$TEST_TMP/long.out"; fail "the long run did not start"; }
pg_ctl_as_owner /usr/lib/postgresql/15/bin/pg_ctl -D "$PG/data" -m fast -w stop >/dev/null
touch "$TEST_TMP/release"
set +e; wait $runner; rc=$?; set -e
[ "$rc" = 4 ] || { cat "$TEST_TMP/long.out"; fail "the run did not stop with exit 4 when the store went away (exit $rc)"; }
grep -q "state store went away" "$TEST_TMP/long.out" || { cat "$TEST_TMP/long.out"; fail "no clear message about the store"; }
grep -q "> three" "$TEST_TMP/long.out" && { cat "$TEST_TMP/long.out"; fail "a new step started after the store went away"; }
grep -q "= two success" "$TEST_TMP/long.out" || { cat "$TEST_TMP/long.out"; fail "the running step did not finish"; }
ok "store stopped during a step: the step finishes, no new step starts, exit 4"
pg_ctl_as_owner /usr/lib/postgresql/15/bin/pg_ctl -D "$PG/data" -l "$PG/server.log" -w \
  -o "-p $port -k $PG -c listen_addresses=127.0.0.1" start >/dev/null
long_run=$(basename "$(ls -d "$TEST_TMP/bob/state/long/runs/"*)")
expect_exit 0 "$RUNBOOK" resume "$long_run"
journal="$TEST_TMP/bob/state/long/runs/$long_run/journal.jsonl"
python3 - "$journal" <<'PY' || fail "a finished step was repeated"
import collections, json, sys
c = collections.Counter(json.loads(l.split(" ", 1)[1])["step"] for l in open(sys.argv[1]) if '"step_started"' in l)
assert c == {"one": 1, "two": 1, "three": 1}, c
PY
[ "$(psql_store -c "SELECT count(*) FROM runbook.records WHERE run_id = '$long_run'")" = "$(wc -l <"$journal")" ] ||
  fail "after the resume the store does not hold every record"
[ "$(psql_store -c "SELECT outcome || ' ' || steps_done FROM runbook.runs WHERE run_id = '$long_run'")" = "success 3" ] ||
  fail "the store's summary of the resumed run is not success 3/3"
ok "once the store is back the resume copies what it missed and completes without repeating a step"
if psql_store -c "SELECT * FROM runbook.records" -c "SELECT encode(data, 'escape') FROM runbook.log_chunks" | grep -q "$RB_TEST_TOKEN"; then
  fail "the secret reached the store"
fi
ok "no secret in the store (imported and recorded runs)"
echo "$pass_count passed, 0 failed"
