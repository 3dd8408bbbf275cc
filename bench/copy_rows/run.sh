#!/bin/bash
# Benchmark: sampling a parent table and its matching children from one PostgreSQL cluster into
# another, six ways:
#   runbook  `runbook run` of a runbook with two copy_rows steps (every N parents, then match,
#            the children with `foreign_keys: after_copy`, as runbooks/ clone into a new database)
#   runbook-rows  the same with the default `foreign_keys: per_row` (the server's row triggers)
#   seed     the wiki's way: COPY a row_number() window to CSV files on the server, strip the
#            extra column with sed, \copy the files in (production-server-maintenance.md)
#   pipe     psql -c "COPY (...) TO STDOUT" | psql -c "COPY ... FROM STDIN"
#   pipe-rb  the same pipe carrying exactly the statements copy_rows sends (its key-only window,
#            its text and binary formats, the parents' keys as one literal array computed before
#            the timing): what psql alone takes for copy_rows' server work
#   target   only the target's loads, from binary files made before the timing (one psql
#            session, FK checked per row): what the ways checking per row pay on the target
# Data: waveforms_file (200k rows) and waveforms_continuoustrace (2M rows, 10 per file, with a
# double precision[] column); every 50th file and its traces are copied (FK in place on the
# target). Each way runs RUNS times (default 3, after WARMUP untimed rounds, default 1) into
# emptied target tables, the ways taking turns so that a change in the machine's load falls on
# all of them alike; the median is shown, and for the targets also the ratio within each round. The whole comparison runs with the servers
# on 4 KB pages, then on 2 MB pages (HUGE_PAGES, below); SHARED_BUFFERS sets their size in MB.
#
# Usage: bench/copy_rows/run.sh [BUILD_DIR]   (needs root or the postgres user for the servers)
#   env: RUNS, WARMUP=1, WAYS="runbook seed ...", HUGE_PAGES=off|on|both, SHARED_BUFFERS=128
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runs=${RUNS:-3}
# Untimed rounds of every way before the timed ones (after each server restart): the first run
# after the data is generated or the servers restart reads from cold caches, whichever way it is.
warmup=${WARMUP:-1}
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

# HUGE_PAGES=off|on|both: the servers' huge_pages setting, set explicitly (with the server's
# default, try, the result would follow whatever vm.nr_hugepages the machine has). `both` (the
# default where 2 MB pages can be had: as root, which reserves them and gives them back after)
# measures every way with 4 KB pages, then again with the servers restarted on 2 MB pages. See
# README.md for why it matters on this machine.
# SHARED_BUFFERS: the servers' shared_buffers in MB (default 128, the server's own default).
shared_mb=${SHARED_BUFFERS:-128}
export PG_SERVER_OPTS="-c shared_buffers=${shared_mb}MB ${PG_SERVER_OPTS:-}"
# 2 MB pages for both servers' shared memory (shared_buffers and about 20 MB more each):
# 2 x (shared_mb + 20) MB in pages of 2 MB.
hugepages_needed=$((shared_mb + 20))
hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
if [ "$(id -u)" = 0 ] || [ "$hugepages_before" -ge "$hugepages_needed" ]; then
  huge_pages=${HUGE_PAGES:-both}
else
  huge_pages=${HUGE_PAGES:-off}
fi
case $huge_pages in
  off | on) page_settings=$huge_pages ;;
  both) page_settings="off on" ;;
  *) echo "HUGE_PAGES must be off, on or both" >&2; exit 2 ;;
esac
if [ "$huge_pages" != off ] && [ "$(id -u)" = 0 ] && [ "$hugepages_before" -lt "$hugepages_needed" ]; then
  echo "$hugepages_needed" >/proc/sys/vm/nr_hugepages
fi

cleanup() {
  bash "$cluster" stop "$work/src" || true
  bash "$cluster" stop "$work/dst" || true
  rm -rf "$work"
  if [ "$(cat /proc/sys/vm/nr_hugepages)" != "$hugepages_before" ]; then
    echo "$hugepages_before" >/proc/sys/vm/nr_hugepages
  fi
}
trap cleanup EXIT

echo "building runbook..." >&2
cmake --build "$build" --target runbook >/dev/null

echo "starting two clusters..." >&2
PG_TEMPLATE_DIR="$build/pg-template" bash "$cluster" start "$work/src" "$src_port" $$
PG_TEMPLATE_DIR="$build/pg-template" bash "$cluster" start "$work/dst" "$dst_port" $$
SRC="host=$work/src port=$src_port user=postgres dbname=jane"
DST="host=$work/dst port=$dst_port user=postgres dbname=jane"
# Restarts both servers with huge_pages=$1 (ALTER SYSTEM: the setting survives the restart).
set_huge_pages() {
  psql_src -c "ALTER SYSTEM SET huge_pages = $1"
  psql_dst -c "ALTER SYSTEM SET huge_pages = $1"
  local side
  for side in src dst; do
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/$side/data" -m fast -w restart >/dev/null
    else
      "$PGBIN/pg_ctl" -D "$work/$side/data" -m fast -w restart >/dev/null
    fi
  done
}
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
# No autovacuum worker on the target: its CPU time would land on whichever way ran before it.
psql_dst -c "ALTER SYSTEM SET autovacuum = off" -c "SELECT pg_reload_conf()" >/dev/null
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
# Before each timed way: the previous way's writes flushed (the servers' dirty buffers by a
# checkpoint, the kernel's dirty pages by sync), so that no way's timing carries another's
# background writing.
settle() {
  psql_src -c "CHECKPOINT"
  psql_dst -c "CHECKPOINT"
  sync
}
check_target() {
  psql_dst -At -c "SELECT (SELECT count(*) FROM waveforms_file) || ' ' ||
    (SELECT count(*) FROM waveforms_continuoustrace) || ' ' ||
    (SELECT count(*) FROM waveforms_continuoustrace t LEFT JOIN waveforms_file f
       ON f.id = t.file_id WHERE f.id IS NULL) || ' ' ||
    (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated)"
}
now() { date +%s.%N; }

# The wiki's LIMITs (10000 files, 50000 traces) are kept in every way; they do not bind here.
sample="SELECT t.id FROM (SELECT id, row_number() OVER (ORDER BY id) AS row FROM waveforms_file) t
  WHERE t.row % $every = 0 LIMIT 10000"

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
    copy_rows: {from: prod, to: dev, table: waveforms_file, order_by: id, every: $every, limit: 10000}
  - id: sample-traces
    needs: [sample-files]
    copy_rows:
      from: prod
      to: dev
      table: waveforms_continuoustrace
      match: {column: file_id, step: sample-files, parent_column: id}
      limit: 50000
      foreign_keys: after_copy
EOF
sed 's/foreign_keys: after_copy/foreign_keys: per_row/' "$work/copy.yaml" >"$work/copy-rows.yaml"
run_runbook() {
  RUNBOOK_STATE_DIR=$work/state NO_COLOR=1 "$build/runbook" run "$work/$1" \
    -i "$work/inventory.yaml" --yes >"$work/$1.out" 2>&1 ||
    { cat "$work/$1.out" >&2; exit 1; }
}
way_runbook() { run_runbook copy.yaml; }
way_runbook-rows() { run_runbook copy-rows.yaml; }

way_seed() {
  # As on the wiki: one psql session on each side (the wiki's are interactive), the source server
  # writing the CSV files (with the extra row column), sed, \copy in. The wiki's scp between the
  # two machines is left out (both clusters are on this machine): that favours the seed.
  psql_src -c "COPY (SELECT t.* FROM (SELECT *, row_number() OVER (ORDER BY id ASC) AS row
    FROM waveforms_file) t WHERE t.row % $every = 0 LIMIT 10000)
    TO '$work/csv/jane_waveforms_file.csv' CSV HEADER" \
    -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN (SELECT t.id FROM (
      SELECT *, row_number() OVER (ORDER BY id ASC) AS row FROM waveforms_file) t
      WHERE t.row % $every = 0 LIMIT 10000) LIMIT 50000)
    TO '$work/csv/jane_waveforms_ct.csv' CSV HEADER"
  sed -e 's#,[^,]*$##' "$work/csv/jane_waveforms_file.csv" >"$work/jane_waveforms_file_clean.csv"
  psql_dst -c "\\copy waveforms_file FROM '$work/jane_waveforms_file_clean.csv' DELIMITER ',' CSV HEADER" \
    -c "\\copy waveforms_continuoustrace FROM '$work/csv/jane_waveforms_ct.csv' DELIMITER ',' CSV HEADER"
}

way_pipe() {
  psql_src -c "COPY (SELECT f.* FROM waveforms_file f WHERE id IN ($sample) ORDER BY id) TO STDOUT" |
    psql_dst -c "COPY waveforms_file FROM STDIN"
  psql_src -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN ($sample) LIMIT 50000) TO STDOUT" |
    psql_dst -c "COPY waveforms_continuoustrace FROM STDIN"
}

# copy_rows' statements (steps/copy_rows_step.h), the parents' keys as it sends them.
file_cols='"id", "path", "size", "created"'
trace_cols='"id", "file_id", "network", "station", "location", "channel", "starttime", "endtime", "npts", "sampling_rate", "preview"'
rb_files="SELECT $file_cols FROM waveforms_file WHERE id = ANY(ARRAY(SELECT id FROM (SELECT id,
  row_number() OVER (ORDER BY id) AS runbook_row FROM waveforms_file) AS runbook_sample
  WHERE runbook_row % $every = 0 ORDER BY runbook_row LIMIT 10000)) ORDER BY id"
keys=$(psql_src -At -c "SELECT '{' || string_agg('\"' || id || '\"', ',' ORDER BY id) || '}' FROM ($rb_files) f")
way_pipe-rb() {
  psql_src -c "COPY ($rb_files) TO STDOUT" |
    psql_dst -c "COPY waveforms_file ($file_cols) FROM STDIN"
  psql_src -c "COPY (SELECT $trace_cols FROM waveforms_continuoustrace
    WHERE \"file_id\" = ANY('$keys'::bigint[]) LIMIT 50000) TO STDOUT WITH (FORMAT binary)" |
    psql_dst -c "COPY waveforms_continuoustrace ($trace_cols) FROM STDIN WITH (FORMAT binary)"
}

# The subset in binary, made once: the target way loads it (the server reads it: user postgres).
psql_src -c "COPY ($rb_files) TO '$work/csv/floor_files.bin' WITH (FORMAT binary)" \
  -c "COPY (SELECT $trace_cols FROM waveforms_continuoustrace WHERE \"file_id\" = ANY('$keys'::bigint[])
    LIMIT 50000) TO '$work/csv/floor_traces.bin' WITH (FORMAT binary)"
way_target() {
  psql_dst -c "COPY waveforms_file ($file_cols) FROM '$work/csv/floor_files.bin' WITH (FORMAT binary)" \
    -c "COPY waveforms_continuoustrace ($trace_cols) FROM '$work/csv/floor_traces.bin' WITH (FORMAT binary)"
}

# CPU time, which the machine's load does not inflate: the servers' backends are reaped by their
# postmaster (its children's times), the clients (psql, sed, runbook) by this shell.
ticks=$(getconf CLK_TCK)
children_ticks() { read -ra f <"/proc/$1/stat"; echo $((f[15] + f[16])); }  # no process of its own
backends_gone() {  # client backends end a moment after their client
  while pgrep -P "$pm_src" -f 'postgres: postgres ' >/dev/null ||
    pgrep -P "$pm_dst" -f 'postgres: postgres ' >/dev/null; do sleep 0.02; done
}
cpu_marks() { echo "$(children_ticks "$pm_src") $(children_ticks "$pm_dst") $(children_ticks $$)"; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "A / B in each round, lowest-median-highest": the ways run in turns, so a round's ratio is
# free of the machine's slower and faster periods that shift the medians of the ways apart.
round_ratios() {
  paste <(tr ' ' '\n' <<<"$1") <(tr ' ' '\n' <<<"$2") | awk 'NF == 2 && $2 > 0 {print $1 / $2}' |
    sort -g | awk '{a[NR]=$1} END {printf "%.2f-%.2f-%.2fx", a[1], a[int((NR+1)/2)], a[NR]}'
}

# Data volume: the text COPY size of the subset (what the psql pipe carries).
bytes=$(( $(psql_src -c "COPY (SELECT f.* FROM waveforms_file f WHERE id IN ($sample)) TO STDOUT" | wc -c) +
          $(psql_src -c "COPY (SELECT * FROM waveforms_continuoustrace WHERE file_id IN ($sample) LIMIT 50000) TO STDOUT" | wc -c) ))
rows=$(( parents / every * (1 + children_per) ))
mb=$(echo "scale=1; $bytes / 1000000" | bc -l)

# The first touch of a shared memory page by a new process (each server backend pays it for each
# 4 KB of shared buffers it touches first): what makes a fresh backend slow on this machine.
first_touch_us=$(python3 "$here/first_touch.py")
ways=${WAYS:-runbook runbook-rows seed pipe pipe-rb target}

# Measures every way RUNS times with the servers on huge_pages=$1 and prints the table.
measure() {
  set_huge_pages "$1"
  pm_src=$(head -1 "$work/src/data/postmaster.pid")
  pm_dst=$(head -1 "$work/dst/data/postmaster.pid")
  unset csrc cdst ccli ctot secs times loads cpu_src cpu_dst cpu_client
  declare -gA csrc cdst ccli ctot secs times loads cpu_src cpu_dst cpu_client
  for ((i = -warmup; i < runs; i++)); do
    for way in $ways; do
      reset_target
      rm -f "$work"/*.csv "$work"/csv/*.csv  # not the floor's .bin files
      settle
      backends_gone
      read -r s0 d0 c0 <<<"$(cpu_marks)"
      loads[$way]+="$(cut -d' ' -f1 /proc/loadavg) "
      t0=$(now)
      "way_$way"
      t1=$(now)
      c1=$(children_ticks $$)  # before the waiting loop's own processes
      backends_gone
      read -r s1 d1 _ <<<"$(cpu_marks)"
      if ((i >= 0)); then
        times[$way]+="$(echo "$t1 - $t0" | bc -l) "
        cpu_src[$way]+="$(echo "($s1 - $s0) / $ticks" | bc -l) "
        cpu_dst[$way]+="$(echo "($d1 - $d0) / $ticks" | bc -l) "
        cpu_client[$way]+="$(echo "($c1 - $c0) / $ticks" | bc -l) "
      else
        loads[$way]=""  # the warm-up round is not counted
      fi
      got=$(check_target)
      read -r nf nt dangling fks <<<"$got"
      if [ "$dangling" != 0 ] || [ "$fks" != 1 ] || [ "$nf" != $((parents / every)) ] || [ "$nt" != $((parents / every * children_per)) ]; then
        echo "$way copied a wrong subset: files traces dangling foreign-keys = $got" >&2
        exit 1
      fi
    done
  done
  for way in $ways; do
    secs[$way]=$(printf '%s\n' ${times[$way]} | median)
    csrc[$way]=$(printf '%s\n' ${cpu_src[$way]} | median)
    cdst[$way]=$(printf '%s\n' ${cpu_dst[$way]} | median)
    ccli[$way]=$(printf '%s\n' ${cpu_client[$way]} | median)
    ctot[$way]=$(echo "${csrc[$way]} + ${cdst[$way]} + ${ccli[$way]}" | bc -l)
    echo "$way: ${times[$way]}s (load average before each: ${loads[$way]})" >&2
  done
  echo "$(uptime)" >&2
  echo
  echo "copy_rows benchmark: every ${every}th of $parents files + matching traces ($((parents * children_per)) in source), median of $runs"
  echo "servers: shared_buffers=${shared_mb}MB, huge_pages=$1; a new process's first touch of a shared 4 KB page here: $first_touch_us us"
  echo "load average over the timed runs: $(echo ${loads[*]} | tr ' ' '\n' | awk '{s+=$1} END {printf "%.1f", s/NR}') (2 cores); $(uptime)"
  grep -o 'copied [0-9]* rows.*' "$work/copy.yaml.out" | sed 's/^/  runbook: /' || true
  printf '%-12s %8s %6s %9s %12s %11s %6s | %-25s %11s\n' way rows MB seconds "runbook/way" "seed/way" load \
    "CPU s: source target client" "seed/way"
  for way in $ways; do
    load=$(echo ${loads[$way]} | tr ' ' '\n' | awk '{s+=$1} END {printf "%.1f", s/NR}')
    printf '%-12s %8d %6s %9.3f %12.2f %11.2f %6s | %6.2f %6.2f %6.2f = %5.2f %11.2f\n' "$way" "$rows" "$mb" \
      "${secs[$way]}" "$(echo "${secs[runbook]} / ${secs[$way]}" | bc -l)" \
      "$(echo "${secs[seed]} / ${secs[$way]}" | bc -l)" "$load" \
      "${csrc[$way]}" "${cdst[$way]}" "${ccli[$way]}" "${ctot[$way]}" \
      "$(echo "${ctot[seed]} / ${ctot[$way]}" | bc -l)"
  done
  verdict[$1]=$(printf 'huge_pages=%s: %.2fx the seed'"'"'s speed (target >= 2), %.2fx the psql pipe'"'"'s time (target <= 1.25); rounds: %s' \
    "$1" "$(echo "${secs[seed]} / ${secs[runbook]}" | bc -l)" "$(echo "${secs[runbook]} / ${secs[pipe]}" | bc -l)" \
    "$(round_ratios "${times[seed]}" "${times[runbook]}")")
  printf '\n%s\n' "${verdict[$1]}"
  if [ -n "${secs[runbook-rows]:-}" ]; then
    printf 'with foreign keys checked per row (runbook-rows): %.2fx over the seed, %.2fx the pipe\n' \
      "$(echo "${secs[seed]} / ${secs[runbook-rows]}" | bc -l)" \
      "$(echo "${secs[runbook-rows]} / ${secs[pipe]}" | bc -l)"
  fi
  if [ -n "${secs[target]:-}" ]; then
    printf 'the target loads alone (from files, foreign keys checked per row): %.3f s; seed / that: %.2fx\n' \
      "${secs[target]}" "$(echo "${secs[seed]} / ${secs[target]}" | bc -l)"
  fi
}

declare -A verdict
for setting in $page_settings; do measure "$setting"; done
if [ "$huge_pages" = both ]; then
  echo
  echo "runbook (copy_rows, foreign keys after the copy):"
  for setting in $page_settings; do echo "  ${verdict[$setting]}"; done
fi
