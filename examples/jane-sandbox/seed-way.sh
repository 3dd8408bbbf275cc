#!/usr/bin/env bash
# The clone of "Setting up a Development/Maintenance Server" done the wiki's way, by hand, on the
# sandbox: pg_dump, COPY ... TO CSV, sed, createuser, dropdb, createdb, psql < dump, \copy.
# Prints the wall time of each phase and the total, to compare with the clone-prod runbook's.
#
#   seed-way.sh [--dir DIR] [--db NAME] [--sample-every N] [--file-limit N] [--trace-limit N]
#
# It restores into database NAME (default jane_seedway) on the dev cluster, so that it does not
# disturb the clone-prod runbook's database `jane`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${RUNBOOK_SANDBOX_DIR:-/tmp/jane-sandbox}
DB=jane_seedway
EVERY=500 FILES=10000 TRACES=50000
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --sample-every) EVERY=$2; shift 2 ;;
    --file-limit) FILES=$2; shift 2 ;;
    --trace-limit) TRACES=$2; shift 2 ;;
    *) echo "seed-way: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$DIR/sandbox.env" ] || { echo "seed-way: no sandbox in $DIR ($HERE/sandbox.sh up)" >&2; exit 1; }
# shellcheck disable=SC1091
. "$DIR/sandbox.env"

# "as user postgres": the superuser over each cluster's unix socket.
prod_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$PROD_PG_SOCKET" -p "$PROD_PG_PORT" -U postgres "$@"; }
dev_psql() { psql -X -q -v ON_ERROR_STOP=1 -h "$DEV_PG_SOCKET" -p "$DEV_PG_PORT" -U postgres "$@"; }
DEV_CONN=(-h "$DEV_PG_SOCKET" -p "$DEV_PG_PORT" -U postgres)

# The server writes the CSV files (COPY ... TO 'file'), so the directory belongs to its user.
W=$DIR/work/seed-way
rm -rf "$W" && mkdir -p "$W"
[ "$(id -u)" != 0 ] || chown postgres "$W"

declare -a PHASES=()
T0=$(date +%s.%N)
LAST=$T0
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
phase() {
  local now
  now=$(date +%s.%N)
  PHASES+=("$(printf '%-44s %7s s' "$1" "$(elapsed "$now" "$LAST")")")
  LAST=$now
}

# On the production server.
pg_dump -h "$PROD_PG_SOCKET" -p "$PROD_PG_PORT" -U postgres jane \
  --exclude-table-data '*.waveforms_continuoustrace' --exclude-table-data '*.waveforms_file' \
  --file "$W/jane.sql"
phase "pg_dump without the two big tables' data"
prod_psql jane <<EOF
COPY (
  SELECT t.*
  FROM (
    SELECT *, row_number()
    OVER(ORDER BY id ASC) AS row
    FROM waveforms_file) t
  WHERE t.row % $EVERY = 0 LIMIT $FILES)
TO '$W/jane_waveforms_file.csv'
CSV HEADER;
COPY (
  SELECT *
  FROM waveforms_continuoustrace
  WHERE file_id IN (
    SELECT t.id
    FROM (
      SELECT *, row_number()
      OVER(ORDER BY id ASC) AS row
      FROM waveforms_file) t
    WHERE t.row % $EVERY = 0 LIMIT $FILES)
  LIMIT $TRACES)
TO '$W/jane_waveforms_ct.csv'
CSV HEADER;
EOF
phase "COPY samples TO csv"
sed -e 's#,[^,]*$##' <"$W/jane_waveforms_file.csv" >"$W/jane_waveforms_file_clean.csv"
phase "sed away the row column"

# On the development server.
if [ -z "$(dev_psql postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'jane'")" ]; then
  createuser "${DEV_CONN[@]}" jane
fi
dropdb "${DEV_CONN[@]}" --if-exists --force "$DB"
createdb "${DEV_CONN[@]}" -T template0 --owner jane "$DB"
phase "createuser, dropdb, createdb"
dev_psql "$DB" -o /dev/null <"$W/jane.sql"
phase "psql $DB < jane.sql"
dev_psql "$DB" <<EOF
\copy waveforms_file FROM '$W/jane_waveforms_file_clean.csv' DELIMITER ',' CSV HEADER
\copy waveforms_continuoustrace FROM '$W/jane_waveforms_ct.csv' DELIMITER ',' CSV HEADER
EOF
phase "\\copy the samples in"

files=$(dev_psql "$DB" -tAc "SELECT count(*) FROM waveforms_file")
traces=$(dev_psql "$DB" -tAc "SELECT count(*) FROM waveforms_continuoustrace")
printf '%s\n' "${PHASES[@]}"
printf 'seed-way: cloned into %s (%s files, %s traces) in %s s wall time\n' \
  "$DB" "$files" "$traces" "$(elapsed "$(date +%s.%N)" "$T0")"
