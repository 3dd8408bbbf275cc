#!/usr/bin/env bash
# Issue 16, the team's state store in PostgreSQL 15 (first piece): `state init` (and its SQL for a
# DBA), `state import` of an operator's state directory, and `history`, `status` and `logs` of
# another operator against the store. A secret never reaches it. run/resume refuse while
# RUNBOOK_STATE_URL is set (runs are not recorded in a store yet).
source "$(dirname "$0")/lib/common.bash"
PG="$TEST_TMP/pg"
chmod 711 "$TEST_TMP"  # the server may run as the user postgres: it must reach its directory
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SOURCE_DIR/tests/harness/pg_cluster.sh" start "$PG" "$port" $$
cleanup_hooks+=("bash '$SOURCE_DIR/tests/harness/pg_cluster.sh' stop '$PG'")
psql_store() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d ops "$@"; }
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops"
URL="postgresql://postgres@127.0.0.1:$port/ops"

expect_exit 4 "$RUNBOOK" history --state "$URL"
grep -q "runbook state init" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "a store without schema does not say how to create it"; }
expect_exit 0 "$RUNBOOK" state init --print-sql
grep -q "CREATE SCHEMA IF NOT EXISTS runbook" "$TEST_TMP/last.out" || fail "--print-sql printed no schema"
psql_store -f "$TEST_TMP/last.out"
[ "$(psql_store -c "SELECT value FROM runbook.meta WHERE key = 'schema_version'")" = 1 ] || fail "the printed SQL records no schema version"
expect_exit 0 "$RUNBOOK" state init --state "$URL"
ok "state init --print-sql gives a DBA the SQL; state init on an initialised store is harmless"

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

if psql_store -c "SELECT * FROM runbook.records" -c "SELECT encode(data, 'escape') FROM runbook.log_chunks" | grep -q "$RB_TEST_TOKEN"; then
  fail "the secret reached the store"
fi
ok "no secret in the store"

expect_exit 4 "$RUNBOOK" run "$TEST_TMP/work.yaml"
grep -q "not recorded in a state store" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "run did not refuse with a store configured"; }
ok "run refuses while RUNBOOK_STATE_URL is set"
echo "$pass_count passed, 0 failed"
