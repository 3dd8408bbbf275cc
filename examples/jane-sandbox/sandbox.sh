#!/usr/bin/env bash
# The Jane sandbox: a stand-in for the seed's two servers ("jane", production, and "unzen", the
# development/maintenance server) on this machine, for the runbooks in runbooks/.
#
#   sandbox.sh up [--size small|default] [--dir DIR] [--port-base N] [--ssh] [--schema FILE]
#   sandbox.sh down [--dir DIR]
#   sandbox.sh status [--dir DIR]
#   sandbox.sh web start|stop|status [--dir DIR]        the production web server (runserver)
#   sandbox.sh indexers start|stop|status [--dir DIR]   the production waveform indexers
#   sandbox.sh long-query [SECONDS] [--dir DIR]         a long read-only query on production
#   sandbox.sh psql prod|dev [DB [PSQL ARGS...]] [--dir DIR]  superuser psql on a cluster
#
# DIR defaults to $RUNBOOK_SANDBOX_DIR, else /tmp/jane-sandbox (the runbooks' defaults point there).
# Ports: PostgreSQL prod = N+2, dev = N+3, prod web = N+10, dev web = N+11, sshd = N+20; N
# defaults to 25430 (below the ephemeral port range 32768-60999, where a client socket can hold a
# port). --ssh (root only): the hosts are reached over ssh, as users `jane` (prod) and `tremor`
# (dev), through a private sshd; without it both hosts are `local: true`. --schema FILE: production's
# database is made by this SQL file (e.g. a DDL of Jane's own database) instead of manage.py migrate.
# What `up` builds is described in examples/jane-sandbox/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PGBIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3
DEFAULT_DIR=/tmp/jane-sandbox
# The password of the `jane` role on production (sandbox only), and the one clone-prod gives it on
# the development server (the secret dev_db_password). Not "jane": the engine masks a secret's
# value wherever it appears in output, and "jane" is in every path and name here; distinct values
# also let tests grep output, logs and journals for a leak.
DB_PASSWORD=Prod-Pw-4711
DEV_DB_PASSWORD=Unzen-Pw-4711

die() { echo "sandbox: $*" >&2; exit 1; }
say() { echo "sandbox: $*"; }

# PostgreSQL's server binaries refuse to run as root: run them as `postgres` then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_owner() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }

# ---- arguments ---------------------------------------------------------------------------------
CMD=${1:-}
[ -n "$CMD" ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
shift
SIZE=default
DIR=${RUNBOOK_SANDBOX_DIR:-$DEFAULT_DIR}
PORT_BASE=25430
SSH=0
SCHEMA=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --size=*) SIZE=${1#*=}; shift ;;
    --dir) DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#*=}; shift ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --port-base=*) PORT_BASE=${1#*=}; shift ;;
    --ssh) SSH=1; shift ;;
    --schema) SCHEMA=$2; shift 2 ;;
    --schema=*) SCHEMA=${1#*=}; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
case "$SIZE" in
  small) NPATHS=20; NFILES=2000; NTRACES=10000; NDOCS=200 ;;
  default) NPATHS=2000; NFILES=200000; NTRACES=1000000; NDOCS=5000 ;;
  *) die "unknown size '$SIZE' (small or default)" ;;
esac
mkdir -p "$(dirname "$DIR")"
DIR=$(cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")
if [ -n "$SCHEMA" ]; then
  [ -f "$SCHEMA" ] || die "--schema: no file $SCHEMA"
  SCHEMA=$(cd "$(dirname "$SCHEMA")" && pwd)/$(basename "$SCHEMA")
fi

load_env() {
  [ -f "$DIR/sandbox.env" ] || die "no sandbox in $DIR (run: $0 up --dir $DIR)"
  # shellcheck disable=SC1091
  . "$DIR/sandbox.env"
}

# ---- PostgreSQL --------------------------------------------------------------------------------
cluster_dir() { echo "$DIR/pg/$1"; }

pg_running() { as_pg "$PGBIN/pg_ctl" status -D "$(cluster_dir "$1")/data" >/dev/null 2>&1; }

init_cluster() {  # NAME PORT
  local name=$1 port=$2 cdir
  cdir=$(cluster_dir "$name")
  mkdir -p "$cdir/sock"
  chown -R "$(pg_owner)" "$cdir"
  as_pg "$PGBIN/initdb" -D "$cdir/data" -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 >"$cdir/initdb.log" 2>&1 ||
    { cat "$cdir/initdb.log" >&2; die "initdb $name failed"; }
  # Unix socket: trust (administration, the dev_admin connection). TCP on loopback: passwords
  # (scram), so that the runbooks' secrets are exercised.
  as_pg tee "$cdir/data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
EOF
  # A throwaway cluster: durability is traded for load speed.
  as_pg tee -a "$cdir/data/postgresql.conf" >/dev/null <<EOF

# jane sandbox ($name)
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$cdir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 2GB
maintenance_work_mem = 256MB
logging_collector = off
EOF
}

start_cluster() {  # NAME
  local cdir
  cdir=$(cluster_dir "$1")
  as_pg "$PGBIN/pg_ctl" start -w -t 60 -D "$cdir/data" -l "$cdir/server.log" >/dev/null ||
    { tail -20 "$cdir/server.log" >&2; die "could not start cluster $1"; }
}

stop_cluster() {  # NAME
  local cdir
  cdir=$(cluster_dir "$1")
  [ -d "$cdir/data" ] || return 0
  if pg_running "$1"; then
    as_pg "$PGBIN/pg_ctl" stop -w -t 60 -m fast -D "$cdir/data" >/dev/null
  fi
}

# psql as the superuser over the cluster's unix socket.
pg_admin() {  # NAME DB [ARGS...]
  local name=$1 db=$2 port
  shift 2
  if [ "$name" = prod ]; then port=$PROD_PG_PORT; else port=$DEV_PG_PORT; fi
  psql -X -q -v ON_ERROR_STOP=1 -h "$(cluster_dir "$name")/sock" -p "$port" -U postgres -d "$db" "$@"
}

# ---- the application ---------------------------------------------------------------------------
git_q() { git -c user.name="Jane Sandbox" -c user.email=sandbox@jane.invalid -c init.defaultBranch=master "$@"; }

# The production checkout (jane@jane:~/jane) is a clone of a bare "github" repository with two
# commits: the deployed state (migrations 0001/0002) and, on top, the one that brings
# waveforms 0003 (what the upgrade scenario pulls). Production is checked out at the first.
make_app() {
  local prod_app=$DIR/prod/jane work=$DIR/upstream/work
  mkdir -p "$DIR/upstream"
  mkdir -p "$work" && cp -a "$HERE/jane/." "$work/"
  find "$work" -name __pycache__ -prune -exec rm -rf {} +
  cat >"$work/.gitignore" <<'EOF'
__pycache__/
*.pyc
src/jane/local_settings.py
/static/
EOF
  (cd "$work" && git_q init -q && git_q add -A && git_q commit -q -m "Jane as deployed on production")
  git_q clone -q --bare "$work" "$DIR/upstream/jane.git"
  git_q clone -q "$DIR/upstream/jane.git" "$prod_app"
  (cd "$work" && git_q remote add origin "$DIR/upstream/jane.git" && git_q fetch -q origin &&
    cp -a "$HERE/pending/." "$work/" && git_q add -A &&
    git_q commit -q -m "waveforms: alter unique_together of ContinuousTrace (migration 0003)" &&
    git_q push -q origin master)
  rm -rf "$work"
}

# The user-installed packages of the production user (pip install --user -> ~/.local).
make_userbase() {
  local site
  site=$(PYTHONUSERBASE=$DIR/prod/.local $PY -m site --user-site)
  mkdir -p "$site/janeplugins-1.2.0.dist-info"
  cp -a "$HERE/userpkg/janeplugins" "$site/"
  printf 'Metadata-Version: 2.1\nName: janeplugins\nVersion: 1.2.0\n' \
    >"$site/janeplugins-1.2.0.dist-info/METADATA"
  echo pip >"$site/janeplugins-1.2.0.dist-info/INSTALLER"
  : >"$site/janeplugins-1.2.0.dist-info/RECORD"
}

write_local_settings() {  # FILE DBNAME USER PASSWORD HOST PORT
  cat >"$1" <<EOF
# Site settings of this Jane instance (not under version control).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "$2",
        "USER": "$3",
        "PASSWORD": "$4",
        "HOST": "$5",
        "PORT": "$6",
    }
}
EOF
  chmod 600 "$1"
}

prod_manage() {
  (cd "$DIR/prod/jane/src" && PYTHONUSERBASE=$DIR/prod/.local $PY manage.py "$@")
}

# ---- synthetic data ----------------------------------------------------------------------------
# Everything in one transaction with generate_series. The two big tables lose their secondary
# indexes and foreign keys during the load and get them back afterwards (much faster than
# maintaining nine indexes row by row); the definitions are Django's, read back from the catalog.
generate_data_sql() {
  local per_file=$((NTRACES / NFILES)) preview="" k
  # The directory of path number p (one year directory in ten, as the indexers' paths).
  local path_name="'/data/waveforms/' || (2010 + p % 10) || '/' || lpad(p::text, 6, '0')"
  for k in $(seq 0 19); do preview+="${preview:+,}sin(i * 0.37 + $k * 0.2)"; done
  cat <<EOF
BEGIN;
CREATE TEMP TABLE saved_defs AS
  SELECT 1 AS ord, format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,
                          pg_get_constraintdef(oid)) AS def,
         format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS undo
    FROM pg_constraint
   WHERE conrelid IN ('waveforms_file'::regclass, 'waveforms_continuoustrace'::regclass)
     AND contype IN ('u', 'f')
  UNION ALL
  SELECT 2, indexdef, format('DROP INDEX %I', indexname)
    FROM pg_indexes
   WHERE tablename IN ('waveforms_file', 'waveforms_continuoustrace')
     AND indexname NOT IN (SELECT conname FROM pg_constraint);
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT undo FROM saved_defs ORDER BY ord DESC LOOP EXECUTE r.undo; END LOOP;
END \$\$;

INSERT INTO auth_group (name) VALUES ('seismologists'), ('operators');
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
  SELECT i, '!', i = 1, CASE WHEN i = 1 THEN 'admin' ELSE 'user' || i END, '', '',
         'user' || i || '@jane.invalid', i = 1, true, timestamptz '2015-01-01' + i * interval '1 day'
    FROM generate_series(1, 20) i;
INSERT INTO auth_user_groups (user_id, group_id)
  SELECT u.id, g.id FROM auth_user u JOIN auth_group g ON g.id % 2 = u.id % 2;

-- waveforms_path is keyed by the directory string; waveforms_file.path_id holds that string.
INSERT INTO waveforms_path (name, ctime, mtime, created_at)
  SELECT $path_name, timestamptz '2016-01-01' + p * interval '1 minute',
         timestamptz '2016-01-01' + p * interval '2 minute', timestamptz '2016-01-01' + p * interval '3 minute'
    FROM generate_series(1, $NPATHS) p;
INSERT INTO waveforms_file (id, name, size, gaps, "overlaps", format, ctime, mtime, created_at, path_id)
  SELECT i, 'XX.S' || lpad(((i - 1) % 500)::text, 3, '0') || '.' || lpad(i::text, 7, '0') || '.mseed',
         4096 * (1 + i % 97), (i % 53 = 0)::int, 0, 'MSEED',
         timestamptz '2016-01-01' + i * interval '1 second',
         timestamptz '2016-01-01' + i * interval '2 second',
         timestamptz '2016-01-01' + i * interval '3 second', $path_name
    FROM (SELECT i, 1 + (i - 1) % $NPATHS AS p FROM generate_series(1, $NFILES) i) g;
INSERT INTO waveforms_continuoustrace (id, pos, network, station, location, channel, timerange,
    duration, sampling_rate, npts, preview_trace, quality, created_at, file_id,
    original_channel, original_location, original_network, original_station)
  SELECT i, p, 'XX', sta, loc, cha,
         tstzrange(timestamptz '2010-01-01' + f * interval '1 hour',
                   timestamptz '2010-01-01' + (f + 1) * interval '1 hour'),
         3600.0, 20.0, 72000, ARRAY[$preview], 'D', timestamptz '2016-01-01' + f * interval '3 second', f,
         cha, loc, 'XX', sta
    FROM (SELECT i, 1 + (i - 1) / $per_file AS f, (i - 1) % $per_file AS p,
                 'S' || lpad((((i - 1) / $per_file) % 500)::text, 3, '0') AS sta,
                 lpad((((i - 1) % $per_file) / 6)::text, 2, '0') AS loc,
                 (ARRAY['BHZ', 'BHN', 'BHE', 'HHZ', 'HHN', 'HHE'])[1 + ((i - 1) % $per_file) % 6] AS cha
            FROM generate_series(1, $NTRACES) i) g;

DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT def FROM saved_defs ORDER BY ord LOOP EXECUTE r.def; END LOOP;
END \$\$;

INSERT INTO waveforms_mapping (timerange, network, station, location, channel, new_network,
    new_station, new_location, new_channel, created_at, modified_at, created_by_id, modified_by_id,
    full_path_regex)
  SELECT tstzrange(timestamptz '2012-01-01' + i * interval '30 days', timestamptz '2012-01-01' + (i + 1) * interval '30 days'),
         'XX', 'S' || lpad(i::text, 3, '0'), '', 'BHZ', 'YY', 'T' || lpad(i::text, 3, '0'), '', 'HHZ',
         timestamptz '2017-01-01', timestamptz '2017-01-01', 1 + i % 20, 1 + i % 20, '^.*$'
    FROM generate_series(1, 50) i;
INSERT INTO waveforms_restriction (id, network, station, comment, created_at, modified_at,
    created_by_id, modified_by_id)
  SELECT i, 'XX', 'S' || lpad(i::text, 3, '0'), 'embargoed until publication',
         timestamptz '2017-01-01', timestamptz '2017-01-01', 1, 1
    FROM generate_series(1, 10) i;
INSERT INTO waveforms_restriction_users (restriction_id, user_id)
  SELECT r, u FROM generate_series(1, 10) r, generate_series(2, 4) u;

-- Jane's document types are plugins (django-plugins): one definition, indexer and validator each.
INSERT INTO djangoplugins_pluginpoint (id, pythonpath, title, status)
  VALUES (1, 'jane.documents.plugins.DocumentPluginPoint', 'Document', 0),
         (2, 'jane.documents.plugins.IndexerPluginPoint', 'Indexer', 0),
         (3, 'jane.documents.plugins.ValidatorPluginPoint', 'Validator', 0);
INSERT INTO djangoplugins_plugin (id, pythonpath, name, title, "index", status, point_id)
  SELECT 3 * (t.n - 1) + k.point, 'jane.' || t.name || '.plugins.' || t.title || k.suffix, t.name,
         t.title, 0, 0, k.point
    FROM (VALUES (1, 'quakeml', 'QuakeML'), (2, 'stationxml', 'StationXML')) t(n, name, title),
         (VALUES (1, 'Plugin'), (2, 'IndexerPlugin'), (3, 'ValidatorPlugin')) k(point, suffix);
INSERT INTO documents_documenttype (name, definition_id, indexer_id)
  VALUES ('quakeml', 1, 2), ('stationxml', 4, 5);
INSERT INTO documents_documenttype_validators (documenttype_id, plugin_id)
  VALUES ('quakeml', 3), ('stationxml', 6);
INSERT INTO documents_document (id, document_type_id, name, content_type, data, filesize, sha1,
    created_at, modified_at, created_by_id, modified_by_id)
  SELECT i, CASE WHEN i % 3 = 0 THEN 'stationxml' ELSE 'quakeml' END, 'doc_' || lpad(i::text, 6, '0') || '.xml',
         'text/xml', convert_to(repeat('<event id="' || md5(i::text) || '"/>', 60), 'UTF8'),
         60 * 48, md5(i::text) || lpad(to_hex(i), 8, '0'),
         timestamptz '2016-06-01' + i * interval '1 hour', timestamptz '2016-06-01' + i * interval '1 hour',
         1 + i % 20, 1 + i % 20
    FROM generate_series(1, $NDOCS) i;
INSERT INTO documents_documentindex (id, document_id, json)
  SELECT i, i, jsonb_build_object('latitude', round((sin(i) * 80)::numeric, 4),
                                  'longitude', round((cos(i) * 170)::numeric, 4),
                                  'magnitude', round((2 + (i % 60) / 10.0)::numeric, 1),
                                  'origin_time', (timestamptz '2016-06-01' + i * interval '1 hour')::text)
    FROM generate_series(1, $NDOCS) i;
INSERT INTO documents_documentindexattachment (index_id, category, content_type, data, created_at,
    modified_at, created_by_id, modified_by_id)
  SELECT i, 'image', 'image/png', convert_to(repeat(md5(i::text), 256), 'UTF8'),
         timestamptz '2017-01-01', timestamptz '2017-01-01', 1, 1
    FROM generate_series(5, $NDOCS, 5) i;

INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, change_message,
    content_type_id, user_id)
  SELECT timestamptz '2017-01-01' + i * interval '1 hour', (1 + i % 1000)::text, 'File ' || i, 2,
         '[{"changed": {"fields": ["format"]}}]',
         (SELECT id FROM django_content_type WHERE app_label = 'waveforms' AND model = 'file'), 1
    FROM generate_series(1, 2000) i;
INSERT INTO django_session (session_key, session_data, expire_date)
  SELECT substr(md5('s' || i) || md5('t' || i), 1, 40), encode(convert_to(repeat('x', 200), 'UTF8'), 'base64'),
         now() + interval '14 days'
    FROM generate_series(1, 200) i;

-- The explicit ids above bypassed the sequences.
SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT max(id) FROM auth_user)) FROM (VALUES ('auth_user')) v(t);
SELECT setval(pg_get_serial_sequence('waveforms_file', 'id'), $NFILES);
SELECT setval(pg_get_serial_sequence('waveforms_continuoustrace', 'id'), $NTRACES);
SELECT setval(pg_get_serial_sequence('waveforms_restriction', 'id'), 10);
SELECT setval(pg_get_serial_sequence('djangoplugins_pluginpoint', 'id'), 3);
SELECT setval(pg_get_serial_sequence('djangoplugins_plugin', 'id'), 6);
SELECT setval(pg_get_serial_sequence('documents_document', 'id'), $NDOCS);
SELECT setval(pg_get_serial_sequence('documents_documentindex', 'id'), $NDOCS);
COMMIT;
ANALYZE;
EOF
}

# ---- processes on production -------------------------------------------------------------------
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Starts a detached process (own session, so that it outlives the runbook step that started it)
# and records its pid.
spawn() {  # PIDFILE LOG CMD...
  local pidfile=$1 log=$2
  shift 2
  # In --ssh mode production's processes belong to its user, also when root starts them.
  # setpriv execs (runuser would fork), so the pid stays the server's.
  if [ -n "${PROD_USER:-}" ] && [ "$(id -u)" = 0 ]; then
    touch "$log"
    chown "$PROD_USER" "$log"
    set -- setpriv --reuid="$PROD_USER" --regid="$PROD_USER" --init-groups \
      env HOME="$(getent passwd "$PROD_USER" | cut -d: -f6)" "$@"
  fi
  # A simple command in the background is forked and exec'd directly, so $! is the server's pid
  # (setsid does not fork either: the child is no process group leader without job control).
  (cd "$DIR/prod/jane/src" || exit 1
   PYTHONUSERBASE=$DIR/prod/.local setsid "$@" >>"$log" 2>&1 </dev/null &
   echo $! >"$pidfile"
   [ -z "${PROD_USER:-}" ] || [ "$(id -u)" != 0 ] || chown "$PROD_USER" "$pidfile")
}

stop_pid() {  # PIDFILE SIGNAL NAME
  local pidfile=$1 sig=$2 name=$3 pid i
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; say "$name: not running"; return 0; fi
  pid=$(cat "$pidfile")
  kill -s "$sig" "$pid"
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; say "$name: stopped (pid $pid)"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  say "$name: did not stop on SIG$sig within 10 s, killed (pid $pid)"
}

web_cmd() {
  local pidfile=$DIR/prod/run/web.pid log=$DIR/prod/log/web.log i
  case "${1:-status}" in
    start)
      if pid_alive "$pidfile"; then say "web: already running (pid $(cat "$pidfile"))"; return 0; fi
      spawn "$pidfile" "$log" "$PY" manage.py runserver --noreload "127.0.0.1:$PROD_WEB_PORT"
      for i in $(seq 1 150); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PROD_WEB_PORT/health" 2>/dev/null; then
          say "web: started on http://127.0.0.1:$PROD_WEB_PORT/ (pid $(cat "$pidfile"))"
          return 0
        fi
        pid_alive "$pidfile" || break
        sleep 0.2
      done
      tail -20 "$log" >&2
      die "web: did not come up (log: $log)" ;;
    stop) stop_pid "$pidfile" TERM web ;;
    status)
      if pid_alive "$pidfile"; then say "web: running (pid $(cat "$pidfile"), port $PROD_WEB_PORT)"
      else say "web: stopped"; return 3; fi ;;
    *) die "web start|stop|status" ;;
  esac
}

INDEXER_PATHS=(/data/waveforms/2010 /data/waveforms/2011)

indexers_cmd() {
  local n rc=0
  case "${1:-status}" in
    start)
      for n in "${!INDEXER_PATHS[@]}"; do
        local pidfile=$DIR/prod/run/indexer-$n.pid
        if pid_alive "$pidfile"; then say "indexer $n: already running (pid $(cat "$pidfile"))"; continue; fi
        spawn "$pidfile" "$DIR/prod/log/indexer-$n.log" "$PY" manage.py index_waveforms "${INDEXER_PATHS[$n]}" --interval 2
        say "indexer $n: started (pid $(cat "$pidfile"))"
      done ;;
    stop)
      # As the seed: SIGHUP to all at once (`pkill --signal 1 -f 'manage.py index_waveforms '`),
      # then wait for each to finish its scan.
      for n in "${!INDEXER_PATHS[@]}"; do stop_pid "$DIR/prod/run/indexer-$n.pid" HUP "indexer $n" & done
      wait ;;
    status)
      for n in "${!INDEXER_PATHS[@]}"; do
        if pid_alive "$DIR/prod/run/indexer-$n.pid"; then say "indexer $n: running (pid $(cat "$DIR/prod/run/indexer-$n.pid"))"
        else say "indexer $n: stopped"; rc=3; fi
      done
      return $rc ;;
    *) die "indexers start|stop|status" ;;
  esac
}

# ---- ssh (--ssh) -------------------------------------------------------------------------------
# Two local users stand for the two machines' accounts: `jane` (jane@jane) and `tremor`
# (tremor@unzen). A private sshd on 127.0.0.1 lets in the operator's key (the runbook engine, as
# root) as both, and tremor's key as jane (the wiki's `rsync jane@jane:...` from unzen).
ensure_user() {  # NAME (sandboxes built at the same time may race here: tolerate the loser)
  id "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$1" || id "$1" >/dev/null ||
    die "cannot create user $1"
  usermod -p '*' "$1"  # no password, but not locked: key logins only
  # The sandbox's upstream repository belongs to root.
  local i
  for i in 1 2 3 4 5; do
    runuser -u "$1" -- git config --global --get safe.directory >/dev/null && return 0
    runuser -u "$1" -- git config --global --add safe.directory '*' 2>/dev/null && return 0
    sleep 0.3
  done
  die "cannot configure git for $1"
}

setup_ssh() {
  local s=$DIR/ssh
  mkdir -p "$s/authorized_keys"
  chmod 755 "$s" "$s/authorized_keys"
  ssh-keygen -q -t ed25519 -N '' -C jane-sandbox-host -f "$s/host_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C operator@jane-sandbox -f "$s/id_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C "$DEV_USER@jane-sandbox" -f "$s/dev_id_ed25519"
  chown "$DEV_USER" "$s/dev_id_ed25519"
  cat "$s/id_ed25519.pub" "$s/dev_id_ed25519.pub" >"$s/authorized_keys/$PROD_USER"
  cat "$s/id_ed25519.pub" >"$s/authorized_keys/$DEV_USER"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$s/host_ed25519.pub")" >"$s/known_hosts"
  chmod 644 "$s/authorized_keys/"* "$s/known_hosts"
  cat >"$s/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $s/host_ed25519
PidFile $s/sshd.pid
AuthorizedKeysFile $s/authorized_keys/%u
AllowUsers $PROD_USER $DEV_USER
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM yes
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel ERROR
EOF
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$s/sshd_config" -E "$s/sshd.log" || die "sshd did not start ($s/sshd.log)"
  local i
  for i in $(seq 1 50); do
    ssh_as "$PROD_USER" true 2>/dev/null && return 0
    sleep 0.1
  done
  die "cannot ssh to $PROD_USER@127.0.0.1:$SSH_PORT ($s/sshd.log)"
}

ssh_as() {  # USER CMD...
  local u=$1
  shift
  ssh -p "$SSH_PORT" -i "$DIR/ssh/id_ed25519" -o UserKnownHostsFile="$DIR/ssh/known_hosts" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes "$u@127.0.0.1" -- "$@"
}

stop_sshd() {
  [ -f "$DIR/ssh/sshd.pid" ] || return 0
  stop_pid "$DIR/ssh/sshd.pid" TERM sshd >/dev/null
}

# ---- generated files ---------------------------------------------------------------------------
write_env() {
  cat >"$DIR/sandbox.env" <<EOF
# Written by sandbox.sh up; read by sandbox.sh and the sandbox's scripts.
SANDBOX_DIR=$DIR
SANDBOX_SIZE=$SIZE
PROD_PG_PORT=$PROD_PG_PORT
DEV_PG_PORT=$DEV_PG_PORT
PROD_WEB_PORT=$PROD_WEB_PORT
DEV_WEB_PORT=$DEV_WEB_PORT
PROD_PG_SOCKET=$DIR/pg/prod/sock
DEV_PG_SOCKET=$DIR/pg/dev/sock
SSH_PORT=$SSH_PORT
PROD_USER=$PROD_USER
DEV_USER=$DEV_USER
# The secrets of the runbooks (". sandbox.env" exports them).
export JANE_PROD_DB_PASSWORD=$DB_PASSWORD
export JANE_DEV_DB_PASSWORD=$DEV_DB_PASSWORD
EOF
}

# The wrappers the runbook params web_stop/web_start/indexers_stop/indexers_start call.
write_bin() {
  mkdir -p "$DIR/bin"
  # A copy, so that the hosts' users (--ssh) need not reach the source tree.
  cp "$HERE/sandbox.sh" "$DIR/bin/sandbox.sh"
  local what
  for what in web indexers; do
    cat >"$DIR/bin/jane-$what" <<EOF
#!/bin/sh
# jane-$what start|stop|status: the production $what of the sandbox in $DIR.
exec "$DIR/bin/sandbox.sh" $what "\$@" --dir "$DIR"
EOF
    chmod +x "$DIR/bin/jane-$what"
  done
}

# The inventory: hosts and databases. Param values live in one overlay per runbook (params/), since
# upgrade-dev and upgrade-prod use the same param names (app_dir, pythonuserbase) for different
# directories. With the default DIR and ports every file matches the runbooks' defaults.
write_inventory() {
  cat >"$DIR/inventory.yaml" <<EOF
# Jane sandbox in $DIR (written by sandbox.sh up). Use with -i $DIR/inventory.yaml
# and, for a sandbox outside $DEFAULT_DIR, -i $DIR/params/<runbook>.yaml.
# Passwords (the secrets prod_db_password, dev_db_password): . $DIR/sandbox.env
EOF
  if [ "$SSH" = 1 ]; then
    local opts="[\"UserKnownHostsFile=$DIR/ssh/known_hosts\", \"StrictHostKeyChecking=yes\"]"
    cat >>"$DIR/inventory.yaml" <<EOF
# Over ssh: each conninfo is as seen from the host of its tunnel.
hosts:
  prod: {ssh: $PROD_USER@127.0.0.1, port: $SSH_PORT, identity_file: $DIR/ssh/id_ed25519, options: $opts}
  dev: {ssh: $DEV_USER@127.0.0.1, port: $SSH_PORT, identity_file: $DIR/ssh/id_ed25519, options: $opts}
databases:
  prod:
    conninfo: "host=127.0.0.1 port=$PROD_PG_PORT dbname=jane user=jane"
    password: "\${{ secrets.prod_db_password }}"
    tunnel: prod
  dev:
    conninfo: "host=127.0.0.1 port=$DEV_PG_PORT dbname=jane user=jane"
    password: "\${{ secrets.dev_db_password }}"
    tunnel: dev
  dev_admin:
    conninfo: "host=$DIR/pg/dev/sock port=$DEV_PG_PORT dbname=postgres user=postgres"
    tunnel: dev
EOF
  else
    cat >>"$DIR/inventory.yaml" <<EOF
hosts:
  prod: {local: true}
  dev: {local: true}
databases:
  prod:
    conninfo: "host=127.0.0.1 port=$PROD_PG_PORT dbname=jane user=jane"
    password: "\${{ secrets.prod_db_password }}"
  dev:
    conninfo: "host=127.0.0.1 port=$DEV_PG_PORT dbname=jane user=jane"
    password: "\${{ secrets.dev_db_password }}"
  dev_admin:
    conninfo: "host=$DIR/pg/dev/sock port=$DEV_PG_PORT dbname=postgres user=postgres"
EOF
  fi
  mkdir -p "$DIR/params"
  cat >"$DIR/params/clone-prod.yaml" <<EOF
params:
  workdir: $DIR/work/clone
  prod_app_dir: $DIR/prod/jane
  dev_app_dir: $DIR/dev/jane-dev
  prod_userbase: $DIR/prod/.local
  dev_userbase: $DIR/dev/.local-jane-dev
  dev_web_port: $DEV_WEB_PORT
EOF
  if [ "$SSH" = 1 ]; then
    cat >>"$DIR/params/clone-prod.yaml" <<EOF
  prod_rsync_source: "$PROD_USER@127.0.0.1:"
  rsync_rsh: "ssh -p $SSH_PORT -i $DIR/ssh/dev_id_ed25519 -o UserKnownHostsFile=$DIR/ssh/known_hosts -o BatchMode=yes"
EOF
  fi
  cat >"$DIR/params/upgrade-dev.yaml" <<EOF
params:
  app_dir: $DIR/dev/jane-dev
  pythonuserbase: $DIR/dev/.local-jane-dev
  dev_web_port: $DEV_WEB_PORT
EOF
  cat >"$DIR/params/upgrade-prod.yaml" <<EOF
params:
  app_dir: $DIR/prod/jane
  pythonuserbase: $DIR/prod/.local
  web_stop: $DIR/bin/jane-web stop
  web_start: $DIR/bin/jane-web start
  indexers_stop: $DIR/bin/jane-indexers stop
  indexers_start: $DIR/bin/jane-indexers start
  backup_dir: $DIR/prod/backups
  site_url: http://127.0.0.1:$PROD_WEB_PORT/
EOF
}

# ---- commands ----------------------------------------------------------------------------------
cmd_down() {
  [ -e "$DIR" ] || { say "nothing in $DIR"; return 0; }
  if [ ! -f "$DIR/sandbox.env" ]; then
    [ -z "$(ls -A "$DIR")" ] || die "$DIR does not look like a sandbox (no sandbox.env); not removing it"
    rmdir "$DIR"
    return 0
  fi
  load_env
  web_cmd stop || true
  indexers_cmd stop || true
  stop_pid "$DIR/prod/run/long-query.pid" TERM long-query >/dev/null
  stop_sshd
  stop_cluster prod
  stop_cluster dev
  rm -rf "$DIR"
  say "removed $DIR"
}

cmd_up() {
  command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client-15)"
  [ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb not found (apt-get install postgresql-15)"
  $PY -c 'import django, psycopg2' 2>/dev/null ||
    die "$PY lacks django or psycopg2 (apt-get install python3-django python3-psycopg2)"
  if [ -e "$DIR" ]; then say "replacing the sandbox in $DIR"; cmd_down; fi
  local t0=$SECONDS
  PROD_PG_PORT=$((PORT_BASE + 2)) DEV_PG_PORT=$((PORT_BASE + 3))
  PROD_WEB_PORT=$((PORT_BASE + 10)) DEV_WEB_PORT=$((PORT_BASE + 11)) SSH_PORT=$((PORT_BASE + 20))
  PROD_USER="" DEV_USER=""
  local port
  for port in "$PROD_PG_PORT" "$DEV_PG_PORT" "$PROD_WEB_PORT" "$DEV_WEB_PORT" "$SSH_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port is in use (choose another --port-base)"
    fi
  done
  if [ "$SSH" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "--ssh needs root (it adds users jane and tremor and runs an sshd)"
    [ -x /usr/sbin/sshd ] || die "no /usr/sbin/sshd (apt-get install openssh-server)"
    PROD_USER=jane DEV_USER=tremor
    ensure_user "$PROD_USER"
    ensure_user "$DEV_USER"
  fi
  mkdir -p "$DIR"/{pg,prod/run,prod/log,prod/backups,dev,work/clone}
  chmod 755 "$DIR" "$DIR/pg" "$DIR/work"
  # The scratch directory of clone-prod, on both "machines".
  chmod 1777 "$DIR/work/clone"
  as_pg test -x "$DIR" || die "user $(pg_owner) cannot reach $DIR (choose a --dir under /tmp)"
  write_env

  say "PostgreSQL clusters: prod on port $PROD_PG_PORT, dev on port $DEV_PG_PORT"
  init_cluster prod "$PROD_PG_PORT"
  init_cluster dev "$DEV_PG_PORT"
  start_cluster prod
  start_cluster dev
  pg_admin prod postgres -c "CREATE ROLE jane LOGIN PASSWORD '$DB_PASSWORD'" \
    -c "CREATE DATABASE jane OWNER jane TEMPLATE template0"

  say "application: $DIR/prod/jane (git, origin $DIR/upstream/jane.git), user packages $DIR/prod/.local"
  make_app
  make_userbase
  write_local_settings "$DIR/prod/jane/src/jane/local_settings.py" jane jane "$DB_PASSWORD" 127.0.0.1 "$PROD_PG_PORT"
  if [ -n "$SCHEMA" ]; then
    # As the owner role, as Django's migrations would have made them.
    say "production's schema from $SCHEMA (not manage.py migrate)"
    psql -X -q -v ON_ERROR_STOP=1 -h "$(cluster_dir prod)/sock" -p "$PROD_PG_PORT" -U jane -d jane \
      -f "$SCHEMA" >"$DIR/prod/log/migrate.log" 2>&1 ||
      { cat "$DIR/prod/log/migrate.log" >&2; die "loading $SCHEMA failed"; }
  else
    prod_manage migrate --noinput >"$DIR/prod/log/migrate.log" 2>&1 ||
      { cat "$DIR/prod/log/migrate.log" >&2; die "manage.py migrate failed"; }
  fi

  say "synthetic data ($SIZE): $NFILES files, $NTRACES traces, $NDOCS documents"
  local t1=$SECONDS
  generate_data_sql | pg_admin prod jane >/dev/null
  say "data generated in $((SECONDS - t1)) s"

  write_bin
  write_inventory
  if [ "$SSH" = 1 ]; then
    chown -R "$PROD_USER" "$DIR/prod"
    chown "$DEV_USER" "$DIR/dev"
    setup_ssh
    say "ssh: $PROD_USER@127.0.0.1 and $DEV_USER@127.0.0.1, port $SSH_PORT, key $DIR/ssh/id_ed25519"
  fi
  web_cmd start
  indexers_cmd start
  say "ready in $((SECONDS - t0)) s"
  say "inventory: $DIR/inventory.yaml"
}

cmd_status() {
  load_env
  local name
  for name in prod dev; do
    if pg_running "$name"; then say "postgres $name: running"; else say "postgres $name: stopped"; fi
  done
  web_cmd status || true
  indexers_cmd status || true
  if [ -n "${PROD_USER:-}" ]; then
    if pid_alive "$DIR/ssh/sshd.pid"; then say "sshd: running on port $SSH_PORT"; else say "sshd: stopped"; fi
  fi
  say "inventory: $DIR/inventory.yaml"
}

cmd_long_query() {
  load_env
  local seconds=${ARGS[0]:-600} pidfile=$DIR/prod/run/long-query.pid
  # A read-only report, as the seed's "long running queries that only read the database".
  PGPASSWORD=$DB_PASSWORD PGAPPNAME=jane-report setsid psql -X -h 127.0.0.1 -p "$PROD_PG_PORT" -U jane -d jane \
    -c "SELECT count(*) FROM waveforms_file, pg_sleep($seconds) WHERE id < 10" \
    >>"$DIR/prod/log/long-query.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  say "long-query: running for ${seconds}s (pid $(cat "$pidfile"))"
}

case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  web) load_env; web_cmd "${ARGS[0]:-status}" ;;
  indexers) load_env; indexers_cmd "${ARGS[0]:-status}" ;;
  long-query) cmd_long_query ;;
  psql) load_env; name=${ARGS[0]:-prod}; pg_admin "$name" "${ARGS[1]:-jane}" "${ARGS[@]:2}" ;;
  *) die "unknown command '$CMD' (up, down, status, web, indexers, long-query, psql)" ;;
esac
