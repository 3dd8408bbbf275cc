#!/bin/bash
# The cost of a remote step, side by side in one run: N (100) `true` commands, one at a time, on an
# ssh host (a throwaway sshd on loopback, tests/harness/sshd.sh), through
#   1. `runbook run` of a runbook of N steps `run: 'true'`, each needing the one before, on a host
#      of an inventory: the ssh client on one master connection for the run (the default)
#   2. the same with `multiplex: false` on the host: a new ssh connection per step
#   3. a plain loop of `ssh -o ControlPath=... host true` (the first ssh opens the master)
#   4. a plain loop of `ssh host true`, a new connection each time (the reference for 2)
# Rows 1 and 3, the pair compared (expected: about 1.0x), run RUNS (3) times, alternating; the
# table shows their medians. Every row gets a sshd of its own and is timed from its first command
# to its master closed. Per step it prints wall milliseconds, CPU milliseconds (user+sys of
# everything the row ran: runbook, ssh clients and master, sshd and the shells it started), and
# the ratio of wall time to row 3 (row 2 also to row 4).
#
#   bench/ssh_bench.sh   env: N (100), RUNS (3), BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# CPU time is read from getrusage(RUSAGE_CHILDREN) (bash's `times`), which counts a process once
# its parent reaps it. The ssh masters and sshd outlive their parents, so this shell becomes a
# child subreaper (prctl PR_SET_CHILD_SUBREAPER, kept across exec): they are reaped here too.
if [ -z "${RUNBOOK_BENCH_SUBREAPER:-}" ] && command -v python3 >/dev/null; then
  export RUNBOOK_BENCH_SUBREAPER=1
  exec python3 -c 'import ctypes, os, sys
if ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) != 0:
    os.environ["RUNBOOK_BENCH_SUBREAPER"] = "failed"
os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi
cpu_counted=1
[ "${RUNBOOK_BENCH_SUBREAPER:-}" = 1 ] || cpu_counted=0

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
runbook=$build/runbook
n=${N:-100}
runs=${RUNS:-3}
[ -x "$runbook" ] || { echo "no $runbook: build it first" >&2; exit 1; }

dir=$(mktemp -d /tmp/runbook-sshbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=$(id -un)
target="$user@127.0.0.1"
sshd_dir=$dir/sshd
cleanup() {
  "$src/tests/harness/sshd.sh" stop "$sshd_dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Keys, config and known_hosts once; each row then starts the sshd afresh.
"$src/tests/harness/sshd.sh" start "$sshd_dir" "$port"
"$src/tests/harness/sshd.sh" stop "$sshd_dir"
ssh_opts=(-o BatchMode=yes -p "$port" -i "$sshd_dir/id_ed25519")
host_options=()
while IFS= read -r o; do
  ssh_opts+=(-o "$o")
  host_options+=("$o")
done <"$sshd_dir/ssh_options"

# The runbook (host `bench` comes from the inventory) and its two inventories.
chain_runbook ssh-bench "$n" bench >"$dir/runbook.yaml"
inventory() {  # inventory MULTIPLEX
  local opts
  opts=$(printf '%s, ' "${host_options[@]}")
  echo "hosts:"
  echo "  bench: {ssh: $target, port: $port, identity_file: $sshd_dir/id_ed25519, multiplex: $1,"
  echo "          options: [${opts%, }]}"
}
inventory true >"$dir/multiplexed.yaml"
inventory false >"$dir/single.yaml"

now_us() { echo $(($(date +%s%N) / 1000)); }
# Sets cpu_now to the milliseconds of CPU (user + sys) of the children reaped so far. `times` must
# run in this shell (in a pipeline or $(...) it would report a subshell's children).
cpu_ms() {
  times >"$dir/times"
  cpu_now=$(awk 'NR == 2 {
    split($0, f, /[ ms]+/)
    print int(((f[1] * 60 + f[2]) + (f[3] * 60 + f[4])) * 1000 + 0.5)
  }' "$dir/times")
}
# Waits until every process the row left (an ssh master, sshd's sessions) is gone and reaped.
wait_for_orphans() {
  local i
  for i in $(seq 200); do
    # (the $(...) subshell is a child too: leave it out)
    [ -z "$(me=$BASHPID; pgrep -P $$ | grep -vx "$me" || true)" ] && return
    sleep 0.05
  done
  echo "warning: processes of the row still running: $(pgrep -a -P $$ | tr '\n' ';')" >&2
}

results=()  # "key|label|steps|wall us|cpu ms"
# measure KEY LABEL STEPS CMD: runs CMD (a shell function) against a fresh sshd
measure() {
  local key=$1 label=$2 steps=$3 cmd=$4 start wall cpu0 cpu1 cpu_now
  "$src/tests/harness/sshd.sh" start "$sshd_dir" "$port"
  cpu_ms
  cpu0=$cpu_now
  start=$(now_us)
  if ! "$cmd" >"$dir/row.log" 2>&1; then
    echo "failed: $label" >&2
    tail -20 "$dir/row.log" >&2
    exit 1
  fi
  wall=$(($(now_us) - start))
  "$src/tests/harness/sshd.sh" stop "$sshd_dir"
  wait_for_orphans
  cpu_ms
  cpu1=$cpu_now
  results+=("$key|$label|$steps|$wall|$((cpu1 - cpu0))")
  printf '  %-44s %8.1f ms/step\n' "$label" "$(awk -v w="$wall" -v s="$steps" 'BEGIN { print w / 1000 / s }')"
}

row_runbook() {
  RUNBOOK_STATE_DIR=$dir/state "$runbook" run "$dir/runbook.yaml" -i "$dir/$1.yaml" --yes --fresh
}
row_runbook_multiplexed() { row_runbook multiplexed; }
row_runbook_single() { row_runbook single; }
row_ssh_multiplexed() {
  local i
  for ((i = 0; i < n; i++)); do
    ssh "${ssh_opts[@]}" -o ControlMaster=auto -o ControlPath="$dir/cm" -o ControlPersist=60 \
      "$target" true
  done
  ssh "${ssh_opts[@]}" -o ControlPath="$dir/cm" -O exit "$target"
}
row_ssh_single() {
  local i
  for ((i = 0; i < n; i++)); do
    ssh "${ssh_opts[@]}" -o ControlMaster=no -o ControlPath=none "$target" true
  done
}
echo "ssh benchmark: $n steps, sshd on 127.0.0.1:$port, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
ssh "${ssh_opts[@]}" -o ControlPath=none "$target" true 2>/dev/null || true  # warm the page cache
for ((r = 1; r <= runs; r++)); do
  echo "round $r of $runs:"
  measure runbook "runbook run, master connection" "$n" row_runbook_multiplexed
  measure loop "ssh -o ControlPath=... loop" "$n" row_ssh_multiplexed
done
echo "once:"
measure runbook_single "runbook run, multiplex: false" "$n" row_runbook_single
measure loop_single "ssh loop, new connection each time" "$n" row_ssh_single
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The median of a row's runs: "label|steps|wall us|cpu ms".
median_row() {
  local key=$1
  printf '%s\n' "${results[@]}" | awk -F'|' -v k="$key" '$1 == k { w[++n] = $4; c[n] = $5; l = $2; s = $3 }
    END {
      if (n == 0) exit
      # sort each column on its own: the median wall and the median CPU
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) {
        if (w[j] < w[i]) { t = w[i]; w[i] = w[j]; w[j] = t }
        if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
      }
      m = int((n + 1) / 2)
      printf "%s|%s|%s|%s|%d\n", l, s, w[m], c[m], n
    }'
}

base=$(median_row loop | awk -F'|' '{ printf "%.6f", $3 / 1000 / $2 }')
printf '\n%-42s %6s %5s %10s %9s %9s %7s\n' "how" "steps" "runs" "total ms" "ms/step" "CPU ms/st" "ratio"
for key in runbook runbook_single loop loop_single; do
  line=$(median_row "$key")
  [ -n "$line" ] || continue
  IFS='|' read -r label steps wall cpu count <<<"$line"
  awk -v l="$label" -v s="$steps" -v w="$wall" -v c="$cpu" -v n="$count" -v b="$base" \
    -v counted="$cpu_counted" 'BEGIN {
    per = w / 1000 / s
    cpu = counted ? sprintf("%9.1f", c / s) : sprintf("%9s", "-")
    printf "%-42s %6d %5d %10.0f %9.1f %s %6.2fx\n", l, s, n, w / 1000, per, cpu, per / b
  }'
done
[ "$cpu_counted" = 1 ] || echo "(CPU not measured: needs python3 for prctl(PR_SET_CHILD_SUBREAPER))"
echo "(ratio: wall ms/step relative to the ssh -o ControlPath loop; rows 1 and 3: median of $runs"
echo " runs, each includes opening and closing its master; load average $load_after at the end)"

rb=$(median_row runbook | awk -F'|' '{ printf "%.3f", $3 / 1000 / $2 }')
loop_ms=$(median_row loop | awk -F'|' '{ printf "%.3f", $3 / 1000 / $2 }')
single=$(median_row runbook_single | awk -F'|' '{ printf "%.3f", $3 / 1000 / $2 }')
loop_single=$(median_row loop_single | awk -F'|' '{ printf "%.3f", $3 / 1000 / $2 }')
awk -v r="$rb" -v l="$loop_ms" -v s="$single" -v ls="$loop_single" 'BEGIN {
  printf "runbook on a master / ssh -o ControlPath loop: %.2fx (%.1f vs %.1f ms per step; expected about 1.0x)\n",
    r / l, r, l
  printf "runbook, multiplex: false / ssh loop, new connections: %.2fx (%.1f vs %.1f ms per step)\n",
    s / ls, s, ls
}'
