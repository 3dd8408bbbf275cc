#!/usr/bin/env bash
# The Jane sandbox itself (no runbook engine involved): up, what it built, the processes the
# runbooks stop and start, the migration state the upgrade scenario starts from, down, and up/down
# a second time in the same directory. Size: $JANE_E2E_SIZE (default small).
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SANDBOX=$SOURCE_DIR/examples/jane-sandbox/sandbox.sh
SIZE=${JANE_E2E_SIZE:-small}
TMP=$(mktemp -d /tmp/jane-e2e-sandbox.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/sb
# Ports below the ephemeral range, apart for concurrent tests (JANE_E2E_PORT_BASE chooses them).
PORT_BASE=${JANE_E2E_PORT_BASE:-$((20000 + ($$ % 400) * 20))}
trap '"$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
check() { local what=$1; shift; "$@" >/dev/null 2>&1 || fail "$what"; echo "ok: $what"; }
eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1 = $3"; }
q() { "$SANDBOX" psql "$1" "$2" --dir "$DIR" -tA -c "$3"; }

for round in 1 2; do
  echo "--- round $round: up ($SIZE)"
  "$SANDBOX" up --size "$SIZE" --dir "$DIR" --port-base "$PORT_BASE"
  # shellcheck disable=SC1091
  . "$DIR/sandbox.env"

  # The data.
  if [ "$SIZE" = small ]; then files=2000 traces=10000; else files=200000 traces=1000000; fi
  eq "files on prod" "$(q prod jane "SELECT count(*) FROM waveforms_file")" $files
  eq "traces on prod" "$(q prod jane "SELECT count(*) FROM waveforms_continuoustrace")" $traces
  eq "traces without their file" "$(q prod jane "SELECT count(*) FROM waveforms_continuoustrace t LEFT JOIN waveforms_file f ON f.id = t.file_id WHERE f.id IS NULL")" 0
  eq "preview length" "$(q prod jane "SELECT array_length(preview_trace, 1) FROM waveforms_continuoustrace WHERE id = 1")" 20
  eq "files whose path_id names no path" "$(q prod jane "SELECT count(*) FROM waveforms_file f LEFT JOIN waveforms_path p ON p.name = f.path_id WHERE p.name IS NULL")" 0
  for t in waveforms_path waveforms_mapping waveforms_restriction waveforms_restriction_users \
           djangoplugins_pluginpoint djangoplugins_plugin documents_documenttype_validators \
           documents_documenttype documents_document documents_documentindex \
           documents_documentindexattachment django_migrations django_content_type \
           django_admin_log django_session auth_user auth_group auth_permission; do
    [ "$(q prod jane "SELECT count(*) > 0 FROM $t")" = t ] || fail "table $t is empty"
  done
  echo "ok: every table of the wiki's listing has rows"
  # pkey, unique_together, file_id, 6 db_index columns, 5 varchar_pattern_ops twins (_like).
  eq "Django's indexes back after the load" \
    "$(q prod jane "SELECT count(*) FROM pg_indexes WHERE tablename = 'waveforms_continuoustrace'")" 15

  # The sandbox's migrations make Jane's own tables: Jane's DDL (the state after every migration,
  # tests/fixtures/jane-schema.sql) loaded into a scratch database has the same columns in the
  # same order with the same types, the same keys and the same indexes (names aside: Django 3.2
  # names them otherwise than Django 1.9), except the unique constraint 0003 changes.
  q dev postgres "CREATE DATABASE jane_ref" >/dev/null
  "$SANDBOX" psql dev jane_ref --dir "$DIR" -f "$SOURCE_DIR/tests/fixtures/jane-schema.sql" >/dev/null
  jane() { echo "($1 LIKE 'waveforms%' OR $1 LIKE 'documents%' OR $1 LIKE 'djangoplugins%')"; }
  not_0003_unique="NOT (%s = 'waveforms_continuoustrace' AND %s LIKE '%%UNIQUE%%(file_id,%%')"
  for what in \
    "SELECT table_name, row_number() OVER (PARTITION BY table_name ORDER BY ordinal_position),
            column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = 'public' AND $(jane table_name) ORDER BY 1, 2" \
    "SELECT conrelid::regclass::text AS t, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace AND $(jane conrelid::regclass::text)
        AND $(printf "$not_0003_unique" conrelid::regclass::text pg_get_constraintdef\(oid\)) ORDER BY 1, 2, 3" \
    "SELECT tablename, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON') AS def FROM pg_indexes
      WHERE schemaname = 'public' AND $(jane tablename) AND $(printf "$not_0003_unique" tablename indexdef) ORDER BY 1, 2"; do
    if ! diff <(q dev jane_ref "$what") <(q prod jane "$what") >"$TMP/schema.diff"; then
      cat "$TMP/schema.diff" >&2
      fail "the sandbox's tables differ from Jane's (< Jane's, > the sandbox's)"
    fi
  done
  echo "ok: the sandbox's waveforms, documents and djangoplugins tables are Jane's (but for 0003)"
  eq "traces' unique constraint before 0003" \
    "$(q prod jane "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'waveforms_continuoustrace'::regclass AND contype = 'u'")" \
    "UNIQUE (file_id, network, station, location, channel, timerange)"
  eq "and Jane's after it" \
    "$(q dev jane_ref "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'waveforms_continuoustrace'::regclass AND contype = 'u'")" \
    "UNIQUE (file_id, pos, network, station, location, channel, timerange)"
  eq "foreign key of traces back" \
    "$(q prod jane "SELECT count(*) FROM pg_constraint WHERE conrelid = 'waveforms_continuoustrace'::regclass AND contype = 'f'")" 1
  eq "owner of the tables" "$(q prod jane "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")" jane
  eq "sequence after the explicit ids" "$(q prod jane "SELECT last_value FROM waveforms_file_id_seq")" $files

  # The migration state: 0001/0002 applied, 0003 only upstream.
  eq "waveforms migrations applied" \
    "$(q prod jane "SELECT string_agg(name, ',' ORDER BY name) FROM django_migrations WHERE app = 'waveforms'")" \
    "0001_initial,0002_auto_20160706_1508"
  eq "documents migrations applied" \
    "$(q prod jane "SELECT string_agg(name, ',' ORDER BY name) FROM django_migrations WHERE app = 'documents'")" \
    "0001_initial,0002_auto_20161018_0646"
  app=$DIR/prod/jane
  check "0003 not in the production checkout" test ! -e "$app/src/jane/waveforms/migrations/0003_auto_waveform_continuoustrace_unique_constraint.py"
  eq "upstream commits" "$(git -C "$DIR/upstream/jane.git" rev-list --count master)" 2
  check "0003 in upstream's last commit" sh -c "git -C '$DIR/upstream/jane.git' show --name-only --format= master | grep -q 0003_auto_waveform_continuoustrace_unique_constraint"
  eq "production is one commit behind" "$(git -C "$app" fetch -q && git -C "$app" rev-list --count HEAD..origin/master)" 1
  check "working tree clean (local_settings.py ignored)" test -z "$(git -C "$app" status --porcelain)"
  plan=$(cd "$app/src" && PYTHONUSERBASE=$DIR/prod/.local /usr/bin/python3 manage.py migrate --plan)
  check "nothing to migrate before the pull" grep -q "No planned migration operations" <<<"$plan"
  check "the site needs its user packages" sh -c "cd '$app/src' && ! PYTHONUSERBASE=/nonexistent /usr/bin/python3 manage.py shell -c 'from jane import views; views.plugins_version()'"
  check "and has them" sh -c "cd '$app/src' && PYTHONUSERBASE='$DIR/prod/.local' /usr/bin/python3 manage.py shell -c 'from jane import views; views.plugins_version()'"

  # The development cluster starts empty.
  eq "no jane database on dev" "$(q dev postgres "SELECT count(*) FROM pg_database WHERE datname = 'jane'")" 0
  eq "no jane role on dev" "$(q dev postgres "SELECT count(*) FROM pg_roles WHERE rolname = 'jane'")" 0

  # Authentication: scram over TCP for jane, trust on the socket.
  check "jane with its password over TCP" env PGPASSWORD="$JANE_PROD_DB_PASSWORD" psql -X -h 127.0.0.1 -p "$PROD_PG_PORT" -U jane -d jane -c "SELECT 1"
  check "jane with a wrong password is refused" sh -c "! PGPASSWORD=wrong psql -X -h 127.0.0.1 -p $PROD_PG_PORT -U jane -d jane -c 'SELECT 1'"

  # The inventory.
  /usr/bin/python3 - "$DIR" <<'EOF' || fail "inventory"
import sys, yaml
d = sys.argv[1]
inv = yaml.safe_load(open(f"{d}/inventory.yaml"))
assert sorted(inv["hosts"]) == ["dev", "prod"], inv["hosts"]
assert sorted(inv["databases"]) == ["dev", "dev_admin", "prod"], inv["databases"]
for rb in ("clone-prod", "upgrade-dev", "upgrade-prod"):
    assert yaml.safe_load(open(f"{d}/params/{rb}.yaml"))["params"], rb
EOF
  echo "ok: inventory and params files"

  # The web server: really stopped and started.
  check "web answers" curl -fsS "http://127.0.0.1:$PROD_WEB_PORT/health"
  web_pid=$(cat "$DIR/prod/run/web.pid")
  "$DIR/bin/jane-web" stop
  check "web process gone" sh -c "! kill -0 $web_pid"
  check "web port closed" sh -c "! curl -fsS http://127.0.0.1:$PROD_WEB_PORT/health"
  check "web status says stopped" sh -c "! '$DIR/bin/jane-web' status"
  "$DIR/bin/jane-web" start
  check "web answers again" curl -fsS "http://127.0.0.1:$PROD_WEB_PORT/health"

  # The indexers: they hold database connections; SIGHUP ends them.
  backends() { q prod postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'jane' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"; }
  "$DIR/bin/jane-web" stop >/dev/null
  check "indexers running" "$DIR/bin/jane-indexers" status
  eq "connections of the two indexers" "$(backends)" 2
  pids=$(cat "$DIR"/prod/run/indexer-*.pid)
  "$DIR/bin/jane-indexers" stop
  for p in $pids; do check "indexer $p gone" sh -c "! kill -0 $p"; done
  check "indexer logged its signal" grep -q "stopped by signal 1" "$DIR/prod/log/indexer-0.log"
  eq "connections left" "$(backends)" 0
  "$DIR/bin/jane-indexers" start
  "$DIR/bin/jane-web" start >/dev/null

  # A long read-only query, for cancel_queries.
  "$SANDBOX" long-query 300 --dir "$DIR"
  for _ in $(seq 50); do
    [ "$(q prod postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jane-report' AND state = 'active'")" = 1 ] && break
    sleep 0.1
  done
  eq "long query active" "$(q prod postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jane-report' AND state = 'active'")" 1

  echo "--- round $round: down"
  pids="$(cat "$DIR"/prod/run/*.pid) $(head -1 "$DIR/pg/prod/data/postmaster.pid") $(head -1 "$DIR/pg/dev/data/postmaster.pid")"
  "$SANDBOX" down --dir "$DIR"
  # A killed process may take a moment to be reaped on a loaded machine.
  for p in $pids; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    check "process $p gone after down" sh -c "! kill -0 $p"
  done
  check "directory removed" test ! -e "$DIR"
done

"$SANDBOX" down --dir "$DIR" | grep -q "nothing in" || fail "down of nothing"
mkdir -p "$TMP/not-a-sandbox" && touch "$TMP/not-a-sandbox/precious"
check "down refuses a directory that is not a sandbox" sh -c "! '$SANDBOX' down --dir '$TMP/not-a-sandbox'"
check "and leaves it alone" test -e "$TMP/not-a-sandbox/precious"
echo "PASS"
