#!/usr/bin/env bash
# clone-prod against a production database built from Jane's own DDL (tests/fixtures/
# jane-schema.sql: the tables Jane's migrations make, waveforms_path keyed by its name,
# waveforms_file.path_id a varchar, the reserved word "overlaps", every foreign key deferrable)
# instead of the sandbox's migrations, with the sandbox's generated rows: the whole run passes,
# its verify queries included, and the clone is production's schema with the sampled rows.
# JANE_E2E_PORT_BASE: the sandbox's base port (default: from the pid, apart for concurrent tests).
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNBOOK=${RUNBOOK:?set RUNBOOK to the runbook binary}
SANDBOX=$SOURCE_DIR/examples/jane-sandbox/sandbox.sh
SCHEMA=$SOURCE_DIR/tests/fixtures/jane-schema.sql
TMP=$(mktemp -d /tmp/jane-e2e-real-schema.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/sb
PORT_BASE=${JANE_E2E_PORT_BASE:-$((20000 + ($$ % 400) * 20 + 5))}
trap '"$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true; [ -n "${JANE_E2E_KEEP:-}" ] || rm -rf "$TMP"' EXIT

T0=$SECONDS
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1 = $3"; }
q() { "$SANDBOX" psql "$1" "$2" --dir "$DIR" -tA -c "$3"; }

"$SANDBOX" up --size small --dir "$DIR" --port-base "$PORT_BASE" --schema "$SCHEMA" >"$TMP/up.log"
# shellcheck disable=SC1091
. "$DIR/sandbox.env"
export RUNBOOK_STATE_DIR=$TMP/state
echo "ok: sandbox up with Jane's schema ($((SECONDS - T0)) s)"

# Production is Jane's database, not the sandbox's migrations.
col() { q prod jane "SELECT coalesce(string_agg(data_type, ','), 'none') FROM information_schema.columns WHERE table_name = '$1' AND column_name = '$2'"; }
eq "waveforms_path.id" "$(col waveforms_path id)" none
eq "waveforms_file.path_id" "$(col waveforms_file path_id)" "character varying"
eq "the last column of waveforms_file" \
  "$(q prod jane "SELECT column_name FROM information_schema.columns WHERE table_name = 'waveforms_file' ORDER BY ordinal_position DESC LIMIT 1")" path_id
eq "Jane's djangoplugins migration recorded" \
  "$(q prod jane "SELECT count(*) FROM django_migrations WHERE app = 'djangoplugins'")" 1
eq "files on prod" "$(q prod jane "SELECT count(*) FROM waveforms_file")" 2000
eq "traces on prod" "$(q prod jane "SELECT count(*) FROM waveforms_continuoustrace")" 10000

# Every 50th file of 2000 (40), at most 30; their traces (5 each), at most 100.
rc=0
"$RUNBOOK" run "$SOURCE_DIR/runbooks/clone-prod.yaml" -i "$DIR/inventory.yaml" -i "$DIR/params/clone-prod.yaml" \
  --set sample_every=50 --set file_limit=30 --set trace_limit=100 --yes >"$TMP/clone.log" 2>&1 </dev/null || rc=$?
[ "$rc" = 0 ] || { tail -40 "$TMP/clone.log" >&2; fail "clone-prod against Jane's schema: exit $rc"; }
echo "ok: clone-prod passes against Jane's schema ($((SECONDS - T0)) s)"

dump() {  # prod|dev PG_DUMP_ARGS...: pg_dump 15.14+ adds \restrict lines with a random key
  local side=$1 sock port
  shift
  if [ "$side" = prod ]; then sock=$PROD_PG_SOCKET port=$PROD_PG_PORT; else sock=$DEV_PG_SOCKET port=$DEV_PG_PORT; fi
  pg_dump -h "$sock" -p "$port" -U postgres -d jane "$@" | grep -v '^\\\(un\)\?restrict '
}
diff -u <(dump prod --schema-only) <(dump dev --schema-only) >"$TMP/schema.diff" ||
  { head -40 "$TMP/schema.diff" >&2; fail "pg_dump --schema-only differs between prod and dev"; }
echo "ok: the clone has production's schema"
want_files="SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM waveforms_file) s WHERE n % 50 = 0 ORDER BY id LIMIT 30"
rows() { echo "SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM $1 t WHERE t.id IN ($2)"; }
eq "sampled files" "$(q dev jane "SELECT count(*) FROM waveforms_file")" 30
eq "sampled files are production's rows" \
  "$(q dev jane "$(rows waveforms_file "SELECT id FROM waveforms_file")")" "$(q prod jane "$(rows waveforms_file "$want_files")")"
eq "sampled traces" "$(q dev jane "SELECT count(*) FROM waveforms_continuoustrace")" 100
eq "sampled traces are production's" \
  "$(q dev jane "$(rows waveforms_continuoustrace "SELECT id FROM waveforms_continuoustrace")")" \
  "$(q prod jane "$(rows waveforms_continuoustrace "SELECT id FROM waveforms_continuoustrace WHERE file_id IN ($want_files) ORDER BY id LIMIT 100")")"
eq "sampled files whose path is missing" \
  "$(q dev jane "SELECT count(*) FROM waveforms_file f WHERE NOT EXISTS (SELECT 1 FROM waveforms_path p WHERE p.name = f.path_id)")" 0
small=(--data-only --exclude-table-data=waveforms_file --exclude-table-data=waveforms_continuoustrace)
cmp -s <(dump prod "${small[@]}") <(dump dev "${small[@]}") || fail "the small tables differ between prod and dev"
echo "ok: the small tables and the sequences are production's"
echo "PASS ($((SECONDS - T0)) s)"
