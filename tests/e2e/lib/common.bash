# Shared helpers for the end-to-end tests: each test is a bash script run by ctest with
# RUNBOOK (the binary) and SOURCE_DIR (the repo root) in the environment.
set -euo pipefail
: "${RUNBOOK:?RUNBOOK must point at the runbook binary}"
: "${SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/runbook-e2e.XXXXXX")
export RUNBOOK_STATE_DIR="$TEST_TMP/state"
export NO_COLOR=1
cleanup_hooks=()
on_exit() {
  local rc=$?
  for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
  rm -rf "$TEST_TMP"
  exit $rc
}
trap on_exit EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass_count=0
ok() { pass_count=$((pass_count + 1)); echo "ok: $*"; }

# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE. Output in $TEST_TMP/last.*
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$TEST_TMP/last.out" 2>"$TEST_TMP/last.err"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "--- stdout"; cat "$TEST_TMP/last.out"; echo "--- stderr"; cat "$TEST_TMP/last.err"
    fail "expected exit $want, got $got: $*"
  fi
}

# start_pg: a throwaway PostgreSQL 15 cluster for this test (tests/harness/pg_cluster.sh), stopped
# at exit: PG is its socket directory, port its TCP port on 127.0.0.1.
start_pg() {
  PG="$TEST_TMP/pg"
  chmod 711 "$TEST_TMP"  # the server may run as the user postgres: it must reach its directory
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  bash "$SOURCE_DIR/tests/harness/pg_cluster.sh" start "$PG" "$port" $$
  cleanup_hooks+=("bash '$SOURCE_DIR/tests/harness/pg_cluster.sh' stop '$PG'")
}

# The only run directory of runbook NAME (fails if not exactly one).
run_dir_of() {
  local dirs=("$RUNBOOK_STATE_DIR/$1/runs/"*)
  [ -d "${dirs[-1]}" ] || fail "no run of $1"
  echo "${dirs[-1]}"
}

# No process whose command line contains MARKER is alive.
no_process_with() {
  local marker=$1
  if pgrep -f -- "$marker" >/dev/null; then
    ps -eo pid,pgid,args | grep -- "$marker" | grep -v grep >&2 || true
    return 1
  fi
}
