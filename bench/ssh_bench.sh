#!/bin/bash
# Cost of a remote step: `true` run N times on an ssh host (a throwaway sshd on loopback,
# tests/harness/sshd.sh), through
#   1. the runbook process runner + ssh wrapper, one master connection for all steps
#   2. the same, a new connection per step (connect, run, close the master)
#   3. a plain `ssh -o ControlPath=... host true` loop over an open master
#   4. a plain `ssh host true` loop, a new connection each time
#   5. ansible-playbook with 50 `command: true` tasks, if ansible-playbook is installed
# and prints per-step milliseconds with the ratio to (3).
#
#   bench/ssh_bench.sh   env: N (100), N_NEW (20, for the new-connection rows), ANSIBLE=0, BUILD_DIR
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
n=${N:-100}
n_new=${N_NEW:-20}

cmake --build "$build" --target ssh_bench >/dev/null
bench=$build/ssh_bench

dir=$(mktemp -d /tmp/runbook-sshbench-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  ssh -o ControlPath="$dir/cm" -O exit "$target" >/dev/null 2>&1 || true
  "$src/tests/harness/sshd.sh" stop "$dir/sshd"
  rm -rf "$dir"
}
target="$(id -un)@127.0.0.1"
trap cleanup EXIT
"$src/tests/harness/sshd.sh" start "$dir/sshd" "$port"

ssh_opts=(-o BatchMode=yes -p "$port" -i "$dir/sshd/id_ed25519")
while IFS= read -r o; do ssh_opts+=(-o "$o"); done < "$dir/sshd/ssh_options"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
rows=()
row() { rows+=("$1|$2|$3"); }  # name, steps, total ms

# Warm up (page cache, sshd's first fork).
ssh "${ssh_opts[@]}" "$target" true

t=$("$bench" "$n" reuse "$target" "$port" "$dir/sshd/id_ed25519" "$dir/sshd/ssh_options")
row "runbook wrapper, one master connection" "$n" "$t"

t=$("$bench" "$n_new" noreuse "$target" "$port" "$dir/sshd/id_ed25519" "$dir/sshd/ssh_options")
row "runbook wrapper, new connection per step" "$n_new" "$t"

ssh "${ssh_opts[@]}" -o ControlMaster=yes -o ControlPath="$dir/cm" -o ControlPersist=60 "$target" true
start=$(now_ms)
for _ in $(seq "$n"); do ssh "${ssh_opts[@]}" -o ControlPath="$dir/cm" "$target" true; done
row "plain ssh -o ControlPath loop" "$n" $(($(now_ms) - start))

start=$(now_ms)
for _ in $(seq "$n_new"); do ssh "${ssh_opts[@]}" "$target" true; done
row "plain ssh, new connection each time" "$n_new" $(($(now_ms) - start))

if [ "${ANSIBLE:-1}" = 0 ]; then
  echo "(ANSIBLE=0: ansible row skipped)"
elif command -v ansible-playbook >/dev/null; then
  {
    echo "all:"
    echo "  hosts:"
    echo "    loop:"
    echo "      ansible_host: 127.0.0.1"
    echo "      ansible_port: $port"
    echo "      ansible_user: $(id -un)"
    echo "      ansible_ssh_private_key_file: $dir/sshd/id_ed25519"
    echo "      ansible_ssh_common_args: '-o UserKnownHostsFile=$dir/sshd/known_hosts -o StrictHostKeyChecking=yes'"
    echo "      ansible_python_interpreter: /usr/bin/python3"
  } > "$dir/inventory.yml"
  {
    echo "- hosts: loop"
    echo "  gather_facts: false"
    echo "  tasks:"
    for i in $(seq 50); do
      echo "    - name: true $i"
      echo "      command: 'true'"
    done
  } > "$dir/playbook.yml"
  start=$(now_ms)
  ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP="$dir/ansible-tmp" \
    ansible-playbook -i "$dir/inventory.yml" "$dir/playbook.yml" >"$dir/ansible.log" 2>&1 ||
    { cat "$dir/ansible.log"; exit 1; }
  row "ansible-playbook, 50 command tasks" 50 $(($(now_ms) - start))
else
  echo "(ansible-playbook not installed: apt-get install ansible-core; row skipped)"
fi

base=$(echo "${rows[2]}" | awk -F'|' '{printf "%.3f", $3 / $2}')
printf '\n%-44s %6s %10s %10s %8s\n' "how" "steps" "total ms" "ms/step" "ratio"
for r in "${rows[@]}"; do
  IFS='|' read -r name steps total <<<"$r"
  awk -v name="$name" -v steps="$steps" -v total="$total" -v base="$base" 'BEGIN {
    per = total / steps
    printf "%-44s %6d %10.0f %10.1f %7.2fx\n", name, steps, total, per, per / base
  }'
done
echo "(ratio: ms/step relative to the plain ssh -o ControlPath loop; load: $(cut -d' ' -f1-3 /proc/loadavg))"
