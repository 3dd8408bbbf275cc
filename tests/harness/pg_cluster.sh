#!/bin/bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   pg_cluster.sh start DIR PORT [OWNER_PID]   initdb into DIR/data (copied from a cached template
#                                               when PG_TEMPLATE_DIR is set), start on PORT with
#                                               its unix socket in DIR, listening on 127.0.0.1 too
#   pg_cluster.sh stop DIR                      stop it (fast shutdown) and remove DIR
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
    as_pg "$PGBIN/postgres" --single -D "$data" -j postgres >/dev/null 2>&1
}

case $cmd in
  start)
    port=${3:?missing PORT}
    owner=${4:-}
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ -n "${PG_TEMPLATE_DIR:-}" ]; then
      # One initdb per machine: later clusters copy it (initdb costs seconds, a copy much less).
      mkdir -p "$PG_TEMPLATE_DIR"
      [ "$(id -u)" = 0 ] && chown postgres: "$PG_TEMPLATE_DIR"
      (
        flock 9
        [ -f "$PG_TEMPLATE_DIR/data/PG_VERSION" ] || initdb_into "$PG_TEMPLATE_DIR/data"
      ) 9>"$PG_TEMPLATE_DIR.lock"
      as_pg cp -a "$PG_TEMPLATE_DIR/data" "$dir/data"
    else
      initdb_into "$dir/data"
    fi
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 -c shared_buffers=64MB" \
      start >/dev/null
    if [ -n "$owner" ]; then
      setsid nohup bash "$0" watch "$dir" "$owner" >/dev/null 2>&1 </dev/null &
    fi
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  watch)
    owner=${3:?missing OWNER_PID}
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg_cluster.sh start DIR PORT [OWNER_PID] | stop DIR" >&2
    exit 2
    ;;
esac
