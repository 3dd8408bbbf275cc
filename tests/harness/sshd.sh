#!/bin/bash
# A throwaway sshd on a loopback port for tests: generated host and client keys in DIR, a login
# for the current user with that client key only, no PAM, run in the foreground (not a daemon).
#
#   sshd.sh start DIR PORT [OWNER_PID]   start it; waits until it accepts connections; with
#                                        OWNER_PID, it also stops when that process is gone
#   sshd.sh stop DIR         stop it
#
# SSHD_MAX_SESSIONS: sessions a connection may open at once (default 100).
#
# After `start`, DIR holds id_ed25519 (the client key) and known_hosts (the server's key for
# [127.0.0.1]:PORT), and DIR/ssh_options lists the `-o` options a client needs (one per line).
set -euo pipefail

cmd=${1:?usage: sshd.sh start DIR PORT [OWNER_PID] | stop DIR}
dir=${2:?DIR missing}

case $cmd in
start)
  port=${3:?PORT missing}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # sshd wants its privilege separation directory; Debian creates it at boot via tmpfiles.
  [ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
  [ -f "$dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519"
  [ -f "$dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/id_ed25519"
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  chmod 600 "$dir/authorized_keys"
  cat > "$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1:$port
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PrintMotd no
MaxSessions ${SSHD_MAX_SESSIONS:-100}
MaxStartups 100:30:200
LogLevel VERBOSE
# bash run by sshd sources ~/.bashrc unless it is a nested shell; a slow bashrc (pyenv init on this
# machine) would add seconds to every command and drown what the tests and benches measure.
SetEnv SHLVL=1
Subsystem sftp internal-sftp
CONF
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" > "$dir/known_hosts"
  printf '%s\n' "UserKnownHostsFile=$dir/known_hosts" "StrictHostKeyChecking=yes" \
    "GlobalKnownHostsFile=/dev/null" > "$dir/ssh_options"
  # -D: no daemon, so the pid we record is sshd's own; -E: log to a file instead of syslog.
  rm -f "$dir/sshd.log"
  /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
  sshd_pid=$!
  echo "$sshd_pid" > "$dir/sshd.pid.bg"
  if [ -n "${4:-}" ]; then
    # A test killed before its teardown must not leave the sshd behind.
    (
      while kill -0 "$4" 2>/dev/null && kill -0 "$sshd_pid" 2>/dev/null; do sleep 1; done
      kill "$sshd_pid" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 &
  fi
  # Ready when our sshd says so (a port that merely answers could be another sshd's).
  for _ in $(seq 200); do
    if grep -q "Server listening on 127.0.0.1 port $port" "$dir/sshd.log" 2>/dev/null; then
      exit 0
    fi
    if ! kill -0 "$sshd_pid" 2>/dev/null; then
      echo "sshd exited; log:" >&2
      cat "$dir/sshd.log" >&2
      exit 1
    fi
    sleep 0.05
  done
  echo "sshd did not start listening on 127.0.0.1:$port" >&2
  exit 1
  ;;
stop)
  if [ -f "$dir/sshd.pid.bg" ]; then
    pid=$(cat "$dir/sshd.pid.bg")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$dir/sshd.pid.bg"
  fi
  ;;
*)
  echo "usage: sshd.sh start DIR PORT [OWNER_PID] | stop DIR" >&2
  exit 2
  ;;
esac
