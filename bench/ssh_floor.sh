#!/bin/bash
# Where a remote step's time goes, on one sshd and one master, the rows alternating over ROUNDS (3)
# rounds of N (100) commands each:
#   - `ssh -S ctl -O check` loop: the ssh client's own start and its talk with the master
#   - `ssh -S ctl host true` loop: plus sshd's session and the login shell
#   - `ssh -S ctl host WRAPPER` loop: the engine's remote wrapper (captured from a live step)
#     running `true`, its go-ahead line on stdin, as the engine runs it
#   - runbook run of N chained `run: 'true'` steps (opens and closes its own master)
#
#   bench/ssh_floor.sh   env: N (100), ROUNDS (3), BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
d=$(mktemp -d /tmp/rb-floor-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$src/tests/harness/sshd.sh start $d/sshd $port
trap '$src/tests/harness/sshd.sh stop $d/sshd; ssh -S $d/ctl -O exit x 2>/dev/null || true; rm -rf $d' EXIT
opts=(-p $port -i $d/sshd/id_ed25519 -o BatchMode=yes); while IFS= read -r o; do opts+=(-o "$o"); done <$d/sshd/ssh_options
tgt=$(id -un)@127.0.0.1
ssh "${opts[@]}" -o ControlMaster=yes -o ControlPath=$d/ctl -o ControlPersist=300 -fN $tgt
source $src/bench/lib.sh
n=${N:-100}
chain_runbook floor "$n" bench >$d/rb.yaml
hostopts=$(printf '%s, ' $(cat $d/sshd/ssh_options))
printf 'hosts:\n  bench: {ssh: %s, port: %s, identity_file: %s, options: [%s]}\n' $tgt $port $d/sshd/id_ed25519 "${hostopts%, }" >$d/inv.yaml
cat > $d/one.yaml <<Y
name: capture
steps:
  - id: s
    host: bench
    run: 'sleep 1.777'
Y
(RUNBOOK_STATE_DIR=$d/state1 $build/runbook run $d/one.yaml -i $d/inv.yaml --yes --fresh >$d/one.log 2>&1 &)
for i in $(seq 100); do
  pid=$(pgrep -f "^/bin/sh -c .*eval 'sleep 1.777'" | head -1 || true)
  [ -n "$pid" ] && tr '\0' '\n' </proc/$pid/cmdline | sed -n 3p > $d/wrapper && [ -s $d/wrapper ] && break
  sleep 0.05
done
sleep 2  # the captured step ends
# The wrapper as the engine sends it, for `run: 'true'`.
wrapper=$(sed "s/eval 'sleep 1.777'/eval 'true'/" $d/wrapper)
cmd=$(python3 -c 'import shlex,sys; print("exec /bin/sh -c " + shlex.quote(sys.argv[1]))' "$wrapper")
ms() { awk -v a="$1" -v b="$2" -v n="$n" 'BEGIN { printf "%.1f ms/step\n", (b - a) / n / 1e6 }'; }
for round in $(seq "${ROUNDS:-3}"); do
  echo "round $round (load $(cut -d' ' -f1 /proc/loadavg))"
  s=$(date +%s%N); for i in $(seq $n); do ssh "${opts[@]}" -S $d/ctl -O check $tgt 2>/dev/null; done; e=$(date +%s%N)
  echo "  ssh -S ctl -O check loop:     $(ms $s $e)"
  s=$(date +%s%N); for i in $(seq $n); do ssh "${opts[@]}" -S $d/ctl $tgt true; done; e=$(date +%s%N)
  echo "  ssh -S ctl host true loop:    $(ms $s $e)"
  s=$(date +%s%N); for i in $(seq $n); do echo | ssh "${opts[@]}" -S $d/ctl -T $tgt "$cmd" 2>/dev/null; done; e=$(date +%s%N)
  echo "  ssh -S ctl host WRAPPER loop: $(ms $s $e)"
  s=$(date +%s%N); RUNBOOK_STATE_DIR=$d/state $build/runbook run $d/rb.yaml -i $d/inv.yaml --yes --fresh >$d/rb.log 2>&1; e=$(date +%s%N)
  echo "  runbook run (own master):     $(ms $s $e)"
done
