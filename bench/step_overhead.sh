#!/bin/bash
# Per-step overhead of `runbook run`: N (200) steps running `true`, each needing the one before,
# against other ways of running the same N commands one at a time:
#   make -j1 (N phony targets in a chain; make execs `true` directly, no shell), ninja -j1 (N
#   edges in a chain; /bin/sh -c true each), a bash loop that runs /bin/sh -c true (what runbook
#   spawns per step) and one that runs /bin/true, and, if ansible-playbook is installed, 50
#   `command: true` tasks on localhost with connection: local.
# Prints ms per step (median of RUNS, default 3) and the ratio to the `sh -c true` loop.
#
#   bench/step_overhead.sh [BUILD_DIR]   env: N (200), RUNS (3), ANSIBLE=0 to skip ansible
set -euo pipefail
source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runbook=$build/runbook
n=${N:-200}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/runbook-step-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rows=()
# bench NAME STEPS SETUP CMD: runs SETUP then times CMD, $runs times; records the median in ms
bench() {
  local name=$1 steps=$2 setup=$3 cmd=$4 ts=() i start
  for ((i = 0; i < runs; i++)); do
    eval "$setup"
    start=$(now_ns)
    eval "$cmd" >"$work/out.log" 2>&1 || { echo "failed: $name" >&2; cat "$work/out.log" >&2; exit 1; }
    ts+=($((($(now_ns) - start) / 1000)))
  done
  rows+=("$name|$steps|$(printf '%s\n' "${ts[@]}" | median)")
}

# The runbook: a chain of N `true` steps.
chain_runbook step-overhead "$n" >"$work/runbook.yaml"

# make: N phony targets, each depending on the one before.
{
  echo ".PHONY: all $(seq -f 't%g' 0 $((n - 1)) | tr '\n' ' ')"
  echo "all: t$((n - 1))"
  echo "t0:"
  printf '\ttrue\n'
  for ((i = 1; i < n; i++)); do
    echo "t$i: t$((i - 1))"
    printf '\ttrue\n'
  done
} >"$work/Makefile"

# ninja: N edges whose outputs are never written (so all run), each ordered after the one before.
{
  echo "rule r"
  echo "  command = true"
  echo "build t0: r"
  for ((i = 1; i < n; i++)); do echo "build t$i: r || t$((i - 1))"; done
  echo "default t$((n - 1))"
} >"$work/build.ninja"

# A fresh state directory per run: no earlier journal, no history to read.
bench "runbook run" "$n" 'rm -rf "$work/state"; export RUNBOOK_STATE_DIR=$work/state' \
  '"$runbook" run "$work/runbook.yaml" --yes'
bench "make -j1" "$n" : 'make -j1 -s -f "$work/Makefile" -C "$work"'
bench "ninja -j1" "$n" : 'ninja -j1 -C "$work"'
bench "bash loop: /bin/sh -c true" "$n" : 'for ((i = 0; i < n; i++)); do /bin/sh -c true; done'
bench "bash loop: /bin/true" "$n" : 'for ((i = 0; i < n; i++)); do /bin/true; done'

if [ "${ANSIBLE:-1}" = 0 ]; then
  echo "(ANSIBLE=0: ansible row skipped)"
elif command -v ansible-playbook >/dev/null; then
  {
    echo "- hosts: localhost"
    echo "  connection: local"
    echo "  gather_facts: false"
    echo "  tasks:"
    for i in $(seq 50); do
      echo "    - name: true $i"
      echo "      command: 'true'"
    done
  } >"$work/playbook.yml"
  # One run only: it takes tens of seconds.
  runs_saved=$runs runs=1
  bench "ansible-playbook, connection: local" 50 : \
    'ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ansible-playbook -i localhost, "$work/playbook.yml"'
  runs=$runs_saved
else
  echo "(ansible-playbook not installed: apt-get install ansible-core; row skipped)"
fi

base=$(echo "${rows[3]}" | awk -F'|' '{ printf "%.4f", $3 / 1000 / $2 }')
printf '\n%-38s %6s %10s %9s %8s\n' "how" "steps" "total ms" "ms/step" "ratio"
for r in "${rows[@]}"; do
  IFS='|' read -r name steps us <<<"$r"
  awk -v name="$name" -v steps="$steps" -v us="$us" -v base="$base" 'BEGIN {
    per = us / 1000 / steps
    printf "%-38s %6d %10.0f %9.2f %7.1fx\n", name, steps, us / 1000, per, per / base
  }'
done
echo "(median of $runs runs, ansible 1 run; ratio: ms/step relative to the /bin/sh -c true loop;" \
  "load: $(cut -d' ' -f1-3 /proc/loadavg))"
