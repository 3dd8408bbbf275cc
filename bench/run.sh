#!/bin/bash
# Runs every benchmark and prints its table (`make bench`). About 30-40 minutes on an idle 2-core
# machine, mostly the Jane sandboxes of downtime.sh.
#   1. before_after.py    issue 13: lines of code, plan of the shipped runbooks, validate/plan of
#                         1,000 steps, against the binary in $BEFORE (only "after" without it)
#   2. step_overhead.sh   per-step cost of `runbook run` against make, ninja, bash, ansible
#   3. copy_rows/run.sh   copy_rows against the wiki's CSV way and a psql pipe (PostgreSQL)
#   4. ssh_bench.sh       `runbook run` over ssh against plain ssh loops (a throwaway sshd on
#                         loopback)
#   5. downtime.sh        how long Jane is down during upgrade-prod against the wiki's order
#                         (six Jane sandboxes of the default size: 20-30 minutes)
#
#   bench/run.sh [BUILD_DIR]   env: SKIP="copy_rows ssh downtime" to leave benchmarks out; BEFORE=binary
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
skip=" ${SKIP:-} "
status=0

section() { printf '\n== %s ==\n' "$1"; }
# bench NAME CMD...: runs one benchmark; a failure is reported and the others still run
bench() {
  local name=$1
  shift
  if [[ $skip == *" $name "* ]]; then
    section "$name (skipped: SKIP)"
    return
  fi
  section "$name"
  local start=$SECONDS
  if ! "$@"; then
    echo "$name: FAILED" >&2
    status=1
  fi
  echo "($name: $((SECONDS - start)) s)"
}

echo "runbook benchmarks, build $build, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# A directory holding only a `runbook` binary works too (no CMake cache: nothing to build).
if [ -f "$build/CMakeCache.txt" ]; then cmake --build "$build" --target runbook >/dev/null; fi
bench before_after python3 "$root/bench/before_after.py" "$build/runbook" ${BEFORE:+"$BEFORE"}
bench step_overhead bash "$root/bench/step_overhead.sh" "$build"
if [ -f "$root/bench/copy_rows/run.sh" ]; then
  bench copy_rows bash "$root/bench/copy_rows/run.sh" "$build"
fi
if [ -f "$root/bench/ssh_bench.sh" ]; then
  # N=50 keeps it to a few minutes; most of it is the ansible row and the new-connection rows.
  bench ssh env BUILD_DIR="$build" N=50 bash "$root/bench/ssh_bench.sh"
fi
if [ -f "$root/bench/downtime.sh" ]; then
  # The Jane sandbox's ports are fixed: one sandbox user at a time on this machine.
  bench downtime flock -o /tmp/jane_sandbox.lock bash "$root/bench/downtime.sh" "$build"
fi
exit $status
