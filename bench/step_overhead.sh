#!/bin/bash
# Per-step overhead of `runbook run` (issue 3): N (1000) steps running `true`, each needing the one
# before, twice: as an argv (`run: [/bin/true]`, exec'd directly) and as a shell command
# (`run: 'true'`, /bin/sh -c), against other ways of running the same N commands one at a time:
#   make -j1 (N phony targets in a chain; make execs `true` directly, no shell), ninja -j1 (N
#   edges in a chain; /bin/sh -c true each), a bash loop that runs /bin/sh -c true (what runbook
#   spawns per step) and one that runs /bin/true, and, if ansible-playbook is installed,
#   ANSIBLE_TASKS (100) `command: true` tasks on localhost with connection: local.
# Also measures the floor the journal's durability sets: two appends + fdatasync per step on the
# state directory's filesystem. Prints ms per step (median of RUNS, default 3), the ratio to the
# `sh -c true` loop, and the two targets: engine overhead over the bash loop running the same
# command (argv steps against the /bin/true loop, shell steps against the sh -c loop) <= 1 ms + that floor,
# and at least 50x faster per step than Ansible.
#
#   bench/step_overhead.sh [BUILD_DIR]   env: N (1000), RUNS (3), ANSIBLE_TASKS (100), ANSIBLE=0
set -euo pipefail
source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runbook=$build/runbook
n=${N:-1000}
tasks=${ANSIBLE_TASKS:-100}
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
chain_runbook step-overhead "$n" "" "[/bin/true]" >"$work/argv.yaml"

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
bench "runbook run, run: [/bin/true]" "$n" 'rm -rf "$work/state"; export RUNBOOK_STATE_DIR=$work/state' \
  '"$runbook" run "$work/argv.yaml" --yes'
bench "runbook run, run: 'true' (sh -c)" "$n" 'rm -rf "$work/state"; export RUNBOOK_STATE_DIR=$work/state' \
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
    for i in $(seq "$tasks"); do
      echo "    - name: true $i"
      echo "      command: 'true'"
    done
  } >"$work/playbook.yml"
  # One run only: it takes tens of seconds.
  runs_saved=$runs runs=1
  bench "ansible-playbook, connection: local" "$tasks" : \
    'ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ansible-playbook -i localhost, "$work/playbook.yml"'
  runs=$runs_saved
else
  echo "(ansible-playbook not installed: apt-get install ansible-core; row skipped)"
fi

# The durability floor: what the journal's two fdatasyncs per step cost on this filesystem (a
# journal-sized record appended and fdatasynced twice per step, N steps, timed inside python).
floor=$(python3 - "$work/floor.jsonl" "$n" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
n = int(sys.argv[2])
line = (b'{"type":"step_finished","step":"s123","outcome":"succeeded","duration_ms":3,' +
        b'"hash":"0123456789abcdef0123456789abcdef","ts":"2026-11-25T12:00:00.000Z"}\n')
start = time.perf_counter()
for _ in range(n):
    for _ in range(2):
        os.write(fd, line)
        os.fdatasync(fd)
print(f"{(time.perf_counter() - start) * 1000 / n:.3f}")
EOF
)

base=$(echo "${rows[4]}" | awk -F'|' '{ printf "%.4f", $3 / 1000 / $2 }')
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

per() { echo "${rows[$1]}" | awk -F'|' '{ printf "%.3f", $3 / 1000 / $2 }'; }
echo
echo "journal floor: two appends + fdatasync per step on this filesystem: $floor ms"
# engine row, loop row: argv steps against the /bin/true loop, shell steps against the sh -c loop
for pair in "0 5" "1 4"; do
  read -r e l <<<"$pair"
  awk -v e="$(per "$e")" -v l="$(per "$l")" -v f="$floor" -v en="${rows[$e]%%|*}" \
    -v ln="${rows[$l]%%|*}" 'BEGIN {
    o = e - l
    printf "%s over the %s: %.3f ms/step; target <= 1 ms + floor = %.3f ms: %s\n",
      en, ln, o, 1 + f, (o <= 1 + f) ? "met" : "MISSED"
  }'
done
if [ "${#rows[@]}" -gt 6 ]; then
  # Ansible's command module runs argv, no shell: against the argv steps.
  awk -v e="$(per 0)" -v a="$(per 6)" 'BEGIN {
    printf "ansible %.2f ms/task vs runbook %.2f ms/step: %.1fx faster; target >= 50x: %s\n",
      a, e, a / e, (a / e >= 50) ? "met" : "MISSED"
  }'
fi
