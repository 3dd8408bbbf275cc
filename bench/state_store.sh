#!/usr/bin/env bash
# Issue 16, the team's state store (PostgreSQL 15, throwaway cluster through
# tests/harness/pg_cluster.sh):
#  - per-step cost of `runbook run` on a chain of STEPS (default 1000) `true` steps with the file
#    journal alone and with the store (each record also committed there);
#  - `history` and `status` with N recorded runs (default 10,000), each of 20 steps with 42
#    journal records, put there by `state import` of one real run and SQL copies of it. Median
#    wall time of RUNS (default 11) calls each; floor 200 ms each.
#   bash bench/state_store.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: state_store.sh BUILD_DIR}
RUNBOOK=$(cd "$BUILD" && pwd)/runbook
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-10000}
STEPS=${STEPS:-1000}
RUNS=${RUNS:-11}
source "$SRC/bench/lib.sh"
TMP=$(mktemp -d /tmp/runbook-bench-store.XXXXXX)
chmod 711 "$TMP"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bash "$SRC/tests/harness/pg_cluster.sh" start "$TMP/pg" "$port" $$
trap 'bash "$SRC/tests/harness/pg_cluster.sh" stop "$TMP/pg"; rm -rf "$TMP"' EXIT
psql -X -q -h "$TMP/pg" -p "$port" -U postgres -d postgres -c "CREATE DATABASE ops"
export RUNBOOK_STATE_URL="postgresql://postgres@127.0.0.1:$port/ops"

chain_runbook chain "$STEPS" >"$TMP/chain.yaml"
per_step() {  # LABEL STATE_URL: ms per step of one run of the chain
  local t0 t1
  t0=$(date +%s%N)
  RUNBOOK_STATE_DIR="$TMP/chain-state-$1" RUNBOOK_STATE_URL=$2 "$RUNBOOK" run "$TMP/chain.yaml" >/dev/null
  t1=$(date +%s%N)
  echo "scale=2; ($t1 - $t0) / 1000000 / $STEPS" | bc
}
file_ms=$(per_step file '')
store_ms=$(per_step store "$RUNBOOK_STATE_URL")
echo "per step, $STEPS chained 'true' steps: file journal $file_ms ms, file journal + store $store_ms ms"
psql -X -q -h "$TMP/pg" -p "$port" -U postgres -d ops -c "SET client_min_messages = warning" -c "TRUNCATE runbook.runs CASCADE"

chain_runbook bench 20 >"$TMP/bench.yaml"
RUNBOOK_STATE_DIR="$TMP/state" RUNBOOK_STATE_URL='' "$RUNBOOK" run "$TMP/bench.yaml" >/dev/null
"$RUNBOOK" state import "$TMP/state" >/dev/null
# N - 1 copies of that run under other ids and start times, a second apart.
psql -X -q -h "$TMP/pg" -p "$port" -U postgres -d ops <<SQL
INSERT INTO runbook.runs
  SELECT to_char(r.started - make_interval(secs => g), 'YYYYMMDD"T"HH24MISS"Z-"') || lpad(to_hex(g % 65536), 4, '0'),
         r.runbook, r.started - make_interval(secs => g), r.ended - make_interval(secs => g),
         r.outcome, r.steps_done, r.steps, r.started_user, r.started_host, r.selection
  FROM runbook.runs r, generate_series(1, $N - 1) g;
INSERT INTO runbook.records
  SELECT n.run_id, rec.seq, rec.record FROM runbook.runs n
  JOIN runbook.runs o ON o.run_id <> n.run_id AND o.started = (SELECT max(started) FROM runbook.runs)
  JOIN runbook.records rec ON rec.run_id = o.run_id;
ANALYZE;
SQL
latest=$(psql -X -A -t -h "$TMP/pg" -p "$port" -U postgres -d ops -c "SELECT run_id FROM runbook.runs ORDER BY started LIMIT 1")
runs=$(psql -X -A -t -h "$TMP/pg" -p "$port" -U postgres -d ops -c "SELECT count(*) FROM runbook.runs")
records=$(psql -X -A -t -h "$TMP/pg" -p "$port" -U postgres -d ops -c "SELECT count(*) FROM runbook.records")

median_ms() {  # CMD...: median wall ms of RUNS calls
  local i t0 times=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    times+=($((($(date +%s%N) - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}
echo "state store: $runs runs, $records journal records; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); median of $RUNS"
h=$(median_ms "$RUNBOOK" history)
s=$(median_ms "$RUNBOOK" status "$latest")
sl=$(median_ms "$RUNBOOK" status)
printf '%-34s %6s ms   floor 200 ms: %s\n' "history (all $runs runs)" "$h" "$([ "$h" -lt 200 ] && echo ok || echo OVER)"
printf '%-34s %6s ms   floor 200 ms: %s\n' "status RUN_ID (oldest run)" "$s" "$([ "$s" -lt 200 ] && echo ok || echo OVER)"
printf '%-34s %6s ms   floor 200 ms: %s\n' "status (latest run)" "$sl" "$([ "$sl" -lt 200 ] && echo ok || echo OVER)"
