#!/usr/bin/env bash
# Issue 16, the run lock in the state store: two operators (separate HOMEs and state directories)
# share a store and run a runbook that touches no database server. The second is refused with
# exit 4 naming the holder, and its `plan` says so; a follower sees the engine let go of the store
# (its lock connection ended by a DBA) and exits 4; the run stops resumable and copies what the
# store lacks at its end; the other operator's `run` is refused for that unfinished run, `plan`
# says why, and `resume` finishes it without repeating a finished step; the first operator's next
# run takes the store's word that it was finished; after a kill -9 of a holder the lock is free
# within seconds.
source "$(dirname "$0")/lib/common.bash"
start_pg  # $PG (its socket directory) and $port
psql_admin() { psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d postgres "$@"; }
psql_admin -c "CREATE DATABASE ops"
export RUNBOOK_STATE_URL="postgresql://postgres@127.0.0.1:$port/ops"

# Each step appends its name to $TEST_TMP/ran: a repeated step shows twice.
cat >"$TEST_TMP/nightly.yaml" <<YAML
name: nightly
steps:
  - id: first
    run: echo first >>"$TEST_TMP/ran"
  - id: hold
    needs: [first]
    run: >-
      echo hold >>"$TEST_TMP/ran"; touch "$TEST_TMP/holding";
      while [ ! -f "$TEST_TMP/release" ]; do sleep 0.05; done
  - id: last
    needs: [hold]
    run: echo last >>"$TEST_TMP/ran"
YAML

as_operator() {  # NAME CMD...: with the operator's own HOME and state directory
  local who=$1; shift
  mkdir -p "$TEST_TMP/$who"
  HOME="$TEST_TMP/$who" RUNBOOK_STATE_DIR="$TEST_TMP/$who/state" "$@"
}
start_holder() {  # ARGS...: operator A's run, in the background, until its hold step runs
  rm -f "$TEST_TMP/holding" "$TEST_TMP/release"
  mkdir -p "$TEST_TMP/alice"
  HOME="$TEST_TMP/alice" RUNBOOK_STATE_DIR="$TEST_TMP/alice/state" \
    "$RUNBOOK" run "$@" "$TEST_TMP/nightly.yaml" >"$TEST_TMP/alice.out" 2>&1 &
  holder=$!
  for _ in $(seq 400); do [ -f "$TEST_TMP/holding" ] && break; sleep 0.05; done
  [ -f "$TEST_TMP/holding" ] || { cat "$TEST_TMP/alice.out"; fail "operator A's run did not start"; }
}
count() { grep -cx "$1" "$TEST_TMP/ran" || true; }
# Operator B on another machine: another host name (a UTS namespace), so that B cannot look at
# A's engine process and must ask the store.
elsewhere() { unshare -u sh -c 'hostname operator-b-laptop && exec "$@"' sh "$@"; }
elsewhere true || fail "cannot give operator B another host name (unshare -u needs root)"

start_holder
run_id=$(basename "$(ls -d "$TEST_TMP/alice/state/nightly/runs/"*)")
expect_exit 4 as_operator bob "$RUNBOOK" run "$TEST_TMP/nightly.yaml"
msg=$(cat "$TEST_TMP/last.out" "$TEST_TMP/last.err")
for want in "held in the state store" "pid $holder" "run $run_id" "$(id -un)@$(hostname)" "no step was run"; do
  grep -qF -- "$want" <<<"$msg" || { echo "$msg"; fail "the refusal does not say '$want'"; }
done
[ "$(count first)" = 1 ] || fail "the refused run ran a step"
[ -z "$(ls -A "$TEST_TMP/bob/state/nightly/runs" 2>/dev/null)" ] ||
  fail "the refused run left a run behind: $(ls "$TEST_TMP/bob/state/nightly/runs")"
ok "a second operator sharing the store is refused with exit 4 naming the holder, no database in common"

expect_exit 4 as_operator bob "$RUNBOOK" plan "$TEST_TMP/nightly.yaml"
grep -qF "held in the state store" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "plan does not say the store's lock is held"; }
ok "plan from the other machine says the lock is held in the store"

# From another machine the engine's process cannot be seen: its lock connection to the store can.
as_operator bob elsewhere "$RUNBOOK" status "$run_id" >"$TEST_TMP/status.out"
grep -qF "outcome: running (its engine, pid $holder on $(hostname), is connected to the state store)" "$TEST_TMP/status.out" ||
  { cat "$TEST_TMP/status.out"; fail "status from another machine does not say the engine is connected to the store"; }
expect_exit 4 as_operator bob elsewhere "$RUNBOOK" resume "$run_id" --yes
grep -qF "run $run_id is going on: its engine (pid $holder on $(hostname)) is connected to the state store" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.err"; fail "a takeover from another machine of a run whose engine is connected was not refused"; }
as_operator bob elsewhere "$RUNBOOK" status --follow "$run_id" >"$TEST_TMP/follow.out" 2>"$TEST_TMP/follow.err" &
follower=$!
sleep 1
kill -0 $follower 2>/dev/null || { cat "$TEST_TMP/follow.out" "$TEST_TMP/follow.err"; fail "the follower did not follow"; }
ended=$(psql -X -A -t -q -h "$PG" -p "$port" -U postgres -d ops -c \
  "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE 'runbook/$run_id lock %'")
[ "$ended" = 1 ] || fail "expected one lock connection of run $run_id in the store, found $ended"
set +e; timeout 20 tail --pid=$follower -f /dev/null; set -e
kill -0 $follower 2>/dev/null && fail "the follower did not notice that the engine let go of the store"
set +e; wait $follower; rc=$?; set -e
[ "$rc" = 4 ] || { cat "$TEST_TMP/follow.out" "$TEST_TMP/follow.err"; fail "the follower exited $rc, not 4"; }
grep -q "no longer connected to the state store" "$TEST_TMP/follow.err" || { cat "$TEST_TMP/follow.err"; fail "the follower does not say why it stopped"; }
as_operator bob elsewhere "$RUNBOOK" status "$run_id" >"$TEST_TMP/status.out"
grep -qF "outcome: stopped (its engine, pid $holder on $(hostname), is no longer connected to the state store" "$TEST_TMP/status.out" ||
  { cat "$TEST_TMP/status.out"; fail "status from another machine does not say the engine let go of the store"; }
expect_exit 4 as_operator bob elsewhere "$RUNBOOK" resume "$run_id"
grep -qF "is no longer connected to the state store: it died, or lost the store and starts no new step" "$TEST_TMP/last.err" ||
  { cat "$TEST_TMP/last.err"; fail "a takeover without --yes of a run whose engine let go of the store does not say why it waits"; }
ok "from another machine, status, a follower and resume see the engine's connection to the store (the follower exits 4; no takeover while it is connected, only with --yes once it is not)"

touch "$TEST_TMP/release"
set +e; wait $holder; rc=$?; set -e
[ "$rc" = 4 ] || { cat "$TEST_TMP/alice.out"; fail "the run that lost the store exited $rc, not 4"; }
[ "$(count last)" = 0 ] || fail "a step started after the store was lost"
grep -q "the store is back and has the whole run now" "$TEST_TMP/alice.out" || { cat "$TEST_TMP/alice.out"; fail "the run did not copy its spool to the store at its end"; }
ok "the run that lost its store connection finishes its step, starts no other (exit 4), and copies what the store lacks at its end"

expect_exit 4 as_operator bob "$RUNBOOK" run "$TEST_TMP/nightly.yaml"
msg=$(cat "$TEST_TMP/last.out" "$TEST_TMP/last.err")
for want in "run $run_id of 'nightly'" "started by $(id -un)@$(hostname)" "did not finish" "runbook resume $run_id"; do
  grep -qF -- "$want" <<<"$msg" || { echo "$msg"; fail "the refusal does not say '$want'"; }
done
expect_exit 4 as_operator bob "$RUNBOOK" plan "$TEST_TMP/nightly.yaml"
grep -qF "run $run_id, started by" "$TEST_TMP/last.out" || { cat "$TEST_TMP/last.out"; fail "plan does not name the unfinished run in the store"; }
ok "the other operator's run and plan are refused for the run left unfinished in the store"

expect_exit 0 as_operator bob "$RUNBOOK" resume "$TEST_TMP/nightly.yaml"
[ "$(count first)" = 1 ] && [ "$(count hold)" = 1 ] && [ "$(count last)" = 1 ] ||
  { cat "$TEST_TMP/ran"; fail "the resume repeated or skipped a step"; }
ok "the other operator resumes it to success without repeating a finished step"

start_holder
grep -q "run $run_id, unfinished here, was finished from another machine" "$TEST_TMP/alice.out" ||
  { cat "$TEST_TMP/alice.out"; fail "operator A's next run did not take the store's word that the run was finished"; }
ok "operator A's next run starts: the store says the run A left unfinished was finished elsewhere"
kill -9 $holder
wait $holder 2>/dev/null || true
touch "$TEST_TMP/release"
start=$(date +%s)
expect_exit 0 as_operator bob "$RUNBOOK" run --fresh "$TEST_TMP/nightly.yaml"
[ $(($(date +%s) - start)) -le 10 ] || fail "the lock of the killed engine was not free within seconds"
ok "after kill -9 of the holder, run --fresh from the other operator succeeds at once"
