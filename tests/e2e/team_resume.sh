#!/usr/bin/env bash
# Issue 16 acceptance, the shared store (PostgreSQL 15) between two operators with separate HOMEs
# and state directories, each with the runbook file on their own machine: a run failed by
# operator A is listed by B's `history`, its logs read by B, and resumed by B to success without
# repeating a finished step; A then sees the success. The store is named by an inventory's
# `state: {url:}`, after --state and RUNBOOK_STATE_URL.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_store() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d "${DB:-ops}" "$@"; }
psql -X -q -h "$PG" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops" -c "CREATE DATABASE other"
URL="postgresql://postgres@127.0.0.1:$port/ops"
unset RUNBOOK_STATE_URL
export RB_TEST_TOKEN="s3cr3t-$$-frobozz"

# Each operator's machine: its own HOME, state directory, copy of the runbook and inventory.
for who in alice bob; do
  mkdir -p "$TEST_TMP/$who"
  cat >"$TEST_TMP/$who/site.yaml" <<YAML
state:
  url: "$URL"
YAML
  cat >"$TEST_TMP/$who/work.yaml" <<YAML
name: teamwork
secrets:
  token: {env: RB_TEST_TOKEN}
steps:
  - id: first
    env: {DIR: "$TEST_TMP", TOKEN: "\${{ secrets.token }}"}
    run: echo "first by \$TOKEN"; echo ran >>"\$DIR/first-runs"
  - id: second
    needs: [first]
    env: {DIR: "$TEST_TMP"}
    run: echo second; [ -f "\$DIR/fixed" ] || { echo "not fixed yet"; exit 3; }
  - id: third
    needs: [second]
    env: {DIR: "$TEST_TMP"}
    run: echo third; echo ran >>"\$DIR/third-runs"
YAML
done
as() { local who=$1; shift; HOME="$TEST_TMP/$who" RUNBOOK_STATE_DIR="$TEST_TMP/$who/state" "$@"; }

# The inventory's store: A's run is recorded there without --state or RUNBOOK_STATE_URL.
as alice expect_exit 1 "$RUNBOOK" run "$TEST_TMP/alice/work.yaml" -i "$TEST_TMP/alice/site.yaml"
run_id=$(basename "$(ls -d "$TEST_TMP/alice/state/teamwork/runs/"*)")
[ "$(psql_store -c "SELECT outcome FROM runbook.runs WHERE run_id = '$run_id'")" = failure ] ||
  fail "the run was not recorded in the store the inventory names"
ok "an inventory's state: {url:} names the store of a run"
# Precedence: --state, then RUNBOOK_STATE_URL, then the inventory.
DB=other psql_store -c "SELECT 1" >/dev/null
as bob expect_exit 4 "$RUNBOOK" history -i "$TEST_TMP/bob/site.yaml" --state "postgresql://postgres@127.0.0.1:$port/other"
grep -q "runbook state init" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "--state did not go before the inventory"; }
RUNBOOK_STATE_URL="postgresql://postgres@127.0.0.1:$port/other" as bob expect_exit 4 "$RUNBOOK" history -i "$TEST_TMP/bob/site.yaml"
grep -q "runbook state init" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "RUNBOOK_STATE_URL did not go before the inventory"; }
as bob expect_exit 0 "$RUNBOOK" history -i "$TEST_TMP/bob/site.yaml" --format json
python3 - "$TEST_TMP/last.out" "$run_id" <<'PY' || fail "B's history from the inventory's store is not A's run"
import json, sys
runs = json.load(open(sys.argv[1]))
assert [(r["run_id"], r["outcome"], r["steps_done"]) for r in runs] == [(sys.argv[2], "failure", 1)], runs
PY
as bob expect_exit 0 "$RUNBOOK" history
[ "$(cat "$TEST_TMP/last.out")" = "" ] || fail "without a store B's history is not B's own (empty) state directory"
ok "precedence: --state, RUNBOOK_STATE_URL, the inventory, then the state directory"

# B reads A's logs and resumes A's run with the runbook file on B's machine.
as bob expect_exit 0 "$RUNBOOK" logs "$run_id" second --state "$URL"
grep -q "not fixed yet" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "B cannot read A's log of the failed step"; }
mv "$TEST_TMP/alice/work.yaml" "$TEST_TMP/alice/work.yaml.away"  # A's file is not on B's machine
touch "$TEST_TMP/fixed"
export RUNBOOK_STATE_URL="$URL"
mv "$TEST_TMP/alice/site.yaml" "$TEST_TMP/alice/site.yaml.away"  # nor A's inventory
as bob expect_exit 2 "$RUNBOOK" resume "$TEST_TMP/bob/work.yaml"
grep -q "run $run_id of teamwork, started by pid [0-9]* on .*, copied from the state store" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "B's resume does not say whose run it continues"; }
grep -qF "started with the inventory $TEST_TMP/alice/site.yaml, which is not on this machine" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.err"; fail "B's resume does not say that A's inventory is not here"; }
[ ! -s "$TEST_TMP/third-runs" ] || fail "a step ran although the inventory was missing"
as bob expect_exit 0 "$RUNBOOK" resume "$TEST_TMP/bob/work.yaml" -i "$TEST_TMP/bob/site.yaml"
[ "$(wc -l <"$TEST_TMP/first-runs")" = 1 ] || fail "the finished step ran again on B's resume"
[ "$(wc -l <"$TEST_TMP/third-runs")" = 1 ] || fail "the resume did not run the last step"
python3 - "$TEST_TMP/bob/state/teamwork/runs/$run_id/journal.jsonl" <<'PY' || fail "B's journal of the run is not A's continued"
import collections, json, sys
recs = [json.loads(l.split(" ", 1)[1]) for l in open(sys.argv[1])]
assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
c = collections.Counter(r["step"] for r in recs if r["type"] == "step_started")
assert c == {"first": 1, "second": 2, "third": 1}, c
assert recs[-1]["type"] == "run_finished" and recs[-1]["outcome"] == "success", recs[-1]
PY
ok "B resumed A's failed run to success with B's runbook file; no finished step repeated"
as alice expect_exit 0 "$RUNBOOK" status "$run_id"
grep -q "third .*success" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "A does not see B's resume in the store"; }
[ "$(psql_store -c "SELECT outcome || ' ' || steps_done FROM runbook.runs WHERE run_id = '$run_id'")" = "success 3" ] ||
  fail "the store's summary is not success 3/3"
cmp <(as alice "$RUNBOOK" logs "$run_id" first) "$TEST_TMP/alice/state/teamwork/runs/$run_id/logs/first.log" ||
  fail "A's log in the store changed"
as alice expect_exit 0 "$RUNBOOK" logs "$run_id" third
grep -q "third" "$TEST_TMP/last.out" || fail "A cannot read B's log of the resumed step"
ok "A sees B's resume: success 3/3, both operators' logs in the store"
expect_exit 4 env HOME="$TEST_TMP/carol" RUNBOOK_STATE_DIR="$TEST_TMP/carol/state" "$RUNBOOK" resume "$run_id"
ok "a run that succeeded is not taken from the store to be resumed"
# The plan's expected durations come from the team's history in the store: B never ran the
# runbook here, A's run (resumed by B) is in the store.
as carol expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/bob/work.yaml" --format json
python3 - "$TEST_TMP/last.out" <<'PY' || fail "a plan with the store has no expected durations from the team's history"
import json, sys
plan = json.load(open(sys.argv[1]))
steps = {s["id"]: s for s in plan["steps"]}
assert all("expected_seconds" in steps[i] for i in ("first", "second", "third")), steps
PY
unset RUNBOOK_STATE_URL
as carol expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/bob/work.yaml" --format json
python3 - "$TEST_TMP/last.out" <<'PY' || fail "a plan without a store shows expected durations from elsewhere"
import json, sys
plan = json.load(open(sys.argv[1]))
assert not any("expected_seconds" in s for s in plan["steps"]), plan["steps"]
PY
ok "plan takes expected durations from the team's history in the store"
export RUNBOOK_STATE_URL="$URL"
if psql_store -c "SELECT * FROM runbook.records" -c "SELECT encode(data, 'escape') FROM runbook.log_chunks" | grep -q "$RB_TEST_TOKEN"; then
  fail "the secret reached the store"
fi
ok "no secret in the store"
echo "$pass_count passed, 0 failed"
