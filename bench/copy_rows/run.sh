#!/bin/bash
# Benchmark: sampling a parent table and its matching children from one PostgreSQL cluster into
# another, three ways:
#   runbook  `runbook run` of a runbook with two copy_rows steps (every N parents, then match)
#   seed     the wiki's way: COPY a row_number() window to CSV files on the server, strip the
#            extra column with sed, \copy the files in (production-server-maintenance.md)
#   pipe     psql -c "COPY (...) TO STDOUT" | psql -c "COPY ... FROM STDIN"
# Data: waveforms_file (200k rows) and waveforms_continuoustrace (2M rows, 10 per file, with a
# double precision[] column); every 50th file and its traces are copied (FK in place on the
# target). Each way runs RUNS times (default 3) into emptied target tables, the ways taking turns
# so that a change in the machine's load falls on all of them alike; the median is shown.
#
# Usage: bench/copy_rows/run.sh [BUILD_DIR]   (needs root or the postgres user for the servers)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${RUNS:-3}
every=${EVERY:-50}
parents=${PARENTS:-200000}
children_per=${CHILDREN_PER:-10}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d /tmp/runbook-copy-bench-XXXXXX)
chmod 755 "$work"
mkdir "$work/csv"  # written by the server (user postgres when run as root), as on the wiki
[ "$(id -u)" = 0 ] && chown postgres: "$work/csv"
src_port=${SRC_PORT:-56432}
dst_port=${DST_PORT:-56433}
cluster="$root/tests/harness/pg_cluster.sh"

cleanup() {
  bash "$cluster" stop "$work/src" || true
  bash "$cluster" stop "$work/dst" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building runbook..." >&2
cmake --build "$build" --target runbook >/dev/null

echo "starting two clusters..." >&2
PG_TEMPLATE_DIR="$build/pg-template" bash "$cluster" start "$work/src" "$src_port" $$
PG_TEMPLATE_DIR="$build/pg-template" bash "$cluster" start "$work/dst" "$dst_port" $$
SRC="host=$work/src port=$src_port user=postgres dbname=jane"
DST="host=$work/dst port=$dst_port user=postgres dbname=jane"
psql_src() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/src" -p "$src_port" -U postgres -d jane "$@"; }
psql_dst() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$work/dst" -p "$dst_port" -U postgres -d jane "$@"; }

schema="
CREATE TABLE waveforms_file (id bigint PRIMARY KEY, path text NOT NULL, size bigint,
  created timestamptz NOT NULL);
CREATE TABLE waveforms_continuoustrace (id bigint PRIMARY KEY,
  file_id bigint NOT NULL REFERENCES waveforms_file(id), network text, station text,
  location text, channel text, starttime timestamptz, endtime timestamptz, npts int,
  sampling_rate double precision, preview double precision[]);
CREATE INDEX ON waveforms_continuoustrace (file_id);"
"$PGBIN/psql" -X -q -h "$work/src" -p "$src_port" -U postgres -d postgres -c "CREATE DATABASE jane"
"$PGBIN/psql" -X -q -h "$work/dst" -p "$dst_port" -U postgres -d postgres -c "CREATE DATABASE jane"
psql_src -c "$schema"
psql_dst -c "$schema"
echo "generating $parents files and $((parents * children_per)) traces..." >&2
psql_src -c "
INSERT INTO waveforms_file SELECT i, '/data/BW/' || i || '.mseed', i * 4096,
  timestamptz '2020-01-01' + i * interval '1 min' FROM generate_series(1, $parents) i;
INSERT INTO waveforms_continuoustrace SELECT i, (i - 1) / $children_per + 1, 'BW',
  'ST' || (i % 97), '', 'HHZ', timestamptz '2020-01-01' + i * interval '1 s',
  timestamptz '2020-01-01' + i * interval '1 s' + interval '1 h', 360000, 100.0,
  ARRAY[random(), random(), random(), random(), random(), random(), random(), random()]
  FROM generate_series(1, $((parents * children_per))) i;"
# As an old production table is: vacuumed by autovacuum, its visibility map set (a VACUUM right
# after the load leaves it unset here, and index-only scans then read the heap anyway).
psql_src -c "VACUUM (FREEZE, ANALYZE)"

reset_target() { psql_dst -c "TRUNCATE waveforms_continuoustrace, waveforms_file"; }
check_target() {
  psql_dst -At -c "SELECT (SELECT count(*) FROM waveforms_file) || ' ' ||
    (SELECT count(*) FROM waveforms_continuoustrace) || ' ' ||
    (SELECT count(*) FROM waveforms_continuoustrace t LEFT JOIN waveforms_file f
       ON f.id = t.file_id WHERE f.id IS NULL)"
}
now() { date +%s.%N; }

sample="SELECT t.id FROM (SELECT id, row_number() OVER (ORDER BY id) AS row FROM waveforms_file) t
  WHERE t.row % $every = 0"

# The product as users run it: the binary, an inventory, a journal in a state directory.
cat >"$work/inventory.yaml" <<EOF
databases:
  prod: {conninfo: "$SRC"}
  dev: {conninfo: "$DST"}
EOF
cat >"$work/copy.yaml" <<EOF
name: copy-bench
steps:
  - id: sample-files
    copy_rows: {from: prod, to: dev, table: waveforms_file, order_by: id, every: $every}
  - id: sample-traces
    needs: [sample-files]
    copy_rows:
      from: prod
      to: dev
      table: waveforms_continuoustrace
      match: {column: file_id, step: sample-files, parent_column: id}
EOF
way_runbook() {
  RUNBOOK_STATE_DIR=$work/state NO_COLOR=1 "$build/runbook" run "$work/copy.yaml" \
    -i "$work/inventory.yaml" --yes >"$work/runbook.out" 2>&1 ||
    { cat "$work/runbook.out" >&2; exit 1; }
}

way_seed() {
  # As on the wiki: server-side COPY to CSV (with the extra row column), sed, \copy in.
  psql_src -c "COPY (SELECT t.* FROM (SELECT *, row_number() OVER (ORDER BY id ASC) AS row
    FROM waveforms_file) t WHERE t.row % $every = 0) TO '$work/csv/jane_waveforms_file.csv' CSV HEADER"
  psql_src -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN ($sample))
    TO '$work/csv/jane_waveforms_ct.csv' CSV HEADER"
  sed -e 's#,[^,]*$##' "$work/csv/jane_waveforms_file.csv" >"$work/jane_waveforms_file_clean.csv"
  psql_dst -c "\\copy waveforms_file FROM '$work/jane_waveforms_file_clean.csv' DELIMITER ',' CSV HEADER"
  psql_dst -c "\\copy waveforms_continuoustrace FROM '$work/csv/jane_waveforms_ct.csv' DELIMITER ',' CSV HEADER"
}

way_pipe() {
  psql_src -c "COPY (SELECT f.* FROM waveforms_file f WHERE id IN ($sample) ORDER BY id) TO STDOUT" |
    psql_dst -c "COPY waveforms_file FROM STDIN"
  psql_src -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN ($sample)) TO STDOUT" |
    psql_dst -c "COPY waveforms_continuoustrace FROM STDIN"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A secs times
ways="runbook seed pipe"
for ((i = 0; i < runs; i++)); do
  for way in $ways; do
    reset_target
    rm -f "$work"/*.csv "$work"/csv/*.csv
    t0=$(now)
    "way_$way"
    t1=$(now)
    times[$way]+="$(echo "$t1 - $t0" | bc -l) "
    got=$(check_target)
    read -r nf nt dangling <<<"$got"
    if [ "$dangling" != 0 ] || [ "$nf" != $((parents / every)) ] || [ "$nt" != $((parents / every * children_per)) ]; then
      echo "$way copied a wrong subset: files traces dangling = $got" >&2
      exit 1
    fi
  done
done
for way in $ways; do
  secs[$way]=$(printf '%s\n' ${times[$way]} | median)
  echo "$way: ${times[$way]}s" >&2
done

# Data volume: the text COPY size of the subset (what the psql pipe carries).
bytes=$(( $(psql_src -c "COPY (SELECT f.* FROM waveforms_file f WHERE id IN ($sample)) TO STDOUT" | wc -c) +
          $(psql_src -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN ($sample)) TO STDOUT" | wc -c) ))
rows=$(( parents / every * (1 + children_per) ))
mb=$(echo "scale=1; $bytes / 1000000" | bc -l)

echo
echo "copy_rows benchmark: every ${every}th of $parents files + matching traces ($((parents * children_per)) in source), median of $runs"
grep -o 'copied [0-9]* rows.*' "$work/runbook.out" | sed 's/^/  runbook: /' || true
printf '%-32s %8s %8s %9s %16s\n' way rows MB seconds "runbook/way"
for way in $ways; do
  ratio=$(echo "${secs[runbook]} / ${secs[$way]}" | bc -l)
  printf '%-32s %8d %8s %9.3f %16.2f\n' "$way" "$rows" "$mb" "${secs[$way]}" "$ratio"
done
printf '\nspeed-up over the seed: %.2fx (target >= 2); time relative to the psql pipe: %.2fx (target <= 1.25)\n' \
  "$(echo "${secs[seed]} / ${secs[runbook]}" | bc -l)" "$(echo "${secs[runbook]} / ${secs[pipe]}" | bc -l)"
