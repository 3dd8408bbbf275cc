#!/bin/bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   pg_cluster.sh start DIR PORT [OWNER_PID]   initdb into DIR/data (copied from a cached template
#                                               when PG_TEMPLATE_DIR is set), start on PORT with
#                                               its unix socket in DIR, listening on 127.0.0.1 too
#   pg_cluster.sh stop DIR                      stop it (fast shutdown) and remove DIR
#   pg_cluster.sh acquire DIR PORT OWNER_PID    a cluster shared by processes: started on PORT
#                                               if not running yet, kept while any registered
#                                               owner lives and LINGER (10) seconds more, so
#                                               consecutive test processes reuse it; prints the
#                                               port it runs on
#
# PG_SERVER_OPTS: more server options for `start` (e.g. "-c huge_pages=on").
#
# Auth: trust for every local and 127.0.0.1 connection, except the user `pwuser` (password
# `pw-secret`), who must give its password over TCP. Superuser: `postgres`.
# PostgreSQL refuses to run as root: as root the server runs as the user `postgres`.
# With OWNER_PID, a watchdog stops the cluster when that process ends (a crashed test binary).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg_cluster.sh start|stop DIR [PORT] [OWNER_PID]}
dir=${2:?missing DIR}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

initdb_into() {
  local data=$1
  as_pg "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  cat >"$data/pg_hba.conf" <<'HBA'
local all all trust
host all pwuser 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
  # The password user is created in single-user mode, so starting a copy needs no extra client.
  echo "CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 'pw-secret';" |
    as_pg "$PGBIN/postgres" --single -D "$data" -j postgres >"$data/../single-user.log" 2>&1 ||
    { cat "$data/../single-user.log" >&2; rm -rf "$data"; echo "pg_cluster.sh: cannot create pwuser" >&2; exit 1; }
}

start_cluster() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  if [ -n "${PG_TEMPLATE_DIR:-}" ]; then
    # One initdb per build: later clusters copy it (initdb costs seconds, a copy much less).
    mkdir -p "$PG_TEMPLATE_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_TEMPLATE_DIR"; fi
    (
      flock 8
      [ -f "$PG_TEMPLATE_DIR/data/PG_VERSION" ] || initdb_into "$PG_TEMPLATE_DIR/data"
    ) 8>"$PG_TEMPLATE_DIR.lock"
    as_pg cp -a "$PG_TEMPLATE_DIR/data" "$dir/data"
  else
    initdb_into "$dir/data"
  fi
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c shared_buffers=64MB ${PG_SERVER_OPTS:-}" \
    start >/dev/null
}

stop_cluster() {
  local dir=$1 mode=$2
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m "$mode" -w stop >/dev/null 2>&1 || true
  fi
}

case $cmd in
  start)
    port=${3:?missing PORT}
    owner=${4:-}
    start_cluster "$dir" "$port"
    if [ -n "$owner" ]; then
      setsid nohup bash "$0" watch "$dir" "$owner" >/dev/null 2>&1 </dev/null &
    fi
    ;;
  stop)
    stop_cluster "$dir" fast
    rm -rf "$dir"
    ;;
  acquire)
    port=${3:?missing PORT}
    owner=${4:?missing OWNER_PID}
    mkdir -p "$dir/owners"
    exec 9>"$dir.lock"
    flock 9
    touch "$dir/owners/$owner"
    if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      rm -rf "$dir/data"
      # fd 9 holds the lock: the server and the watchdog must not inherit it.
      start_cluster "$dir" "$port" 9>&-
      echo "$port" >"$dir/port"
    fi
    if ! { [ -f "$dir/watchdog.pid" ] && kill -0 "$(cat "$dir/watchdog.pid")" 2>/dev/null; }; then
      setsid nohup bash "$0" shared-watch "$dir" >/dev/null 2>&1 </dev/null 9>&- &
      echo $! >"$dir/watchdog.pid"
    fi
    cat "$dir/port"
    ;;
  shared-watch)
    idle_since=$(date +%s)
    while sleep 1; do
      exec 9>"$dir.lock"
      flock 9
      alive=0
      for f in "$dir"/owners/*; do
        [ -e "$f" ] || continue
        if kill -0 "${f##*/}" 2>/dev/null; then alive=1; else rm -f "$f"; fi
      done
      if [ "$alive" = 1 ]; then
        idle_since=$(date +%s)
      elif [ $(($(date +%s) - idle_since)) -ge "${LINGER:-10}" ]; then
        stop_cluster "$dir" fast
        rm -rf "$dir/data" "$dir/watchdog.pid"
        exit 0
      fi
      flock -u 9
    done
    ;;
  watch)
    owner=${3:?missing OWNER_PID}
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    stop_cluster "$dir" immediate
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_cluster.sh start DIR PORT [OWNER_PID] | stop DIR | acquire DIR PORT OWNER_PID" >&2
    exit 2
    ;;
esac
