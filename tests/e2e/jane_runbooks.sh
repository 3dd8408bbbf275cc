#!/usr/bin/env bash
# The three Jane runbooks driven by the real binary ($RUNBOOK) against a small sandbox, through
# an inventory:
#   - validate; plan of clone-prod (every step shown, nothing done);
#   - clone-prod with a failure in its middle: production grants a role the development server
#     lacks, so the restore fails (exit 1); the operator creates the role and `runbook resume`
#     finishes (exit 0) without dumping again (the dump file and the journal say so);
#   - after the clone: the same schema on both (pg_dump --schema-only), the small tables whole,
#     the sampled rows exactly those sample_every/file_limit/trace_limit select, no dangling
#     foreign key, the same django_migrations;
#   - the dry run of each runbook changes nothing (both clusters dumped, their roles, databases
#     and sessions, and every file of the sandbox, before and after);
#   - upgrade-dev (0003 on dev only);
#   - upgrade-prod: blocked by a read-only query too young to cancel (exit 3, the query shown and
#     left alone, everything started again); then, with the query old enough and a writing session
#     (an UPDATE in an open transaction): the query cancelled, the writer shown with its pid and
#     query and left alone, blocked (exit 3); then, the writer gone, run again: 0003 on production;
#   - the passwords appear in no output, log or journal.
# JANE_E2E_SSH=1: the sandbox's hosts are reached over ssh (sandbox.sh up --ssh; needs root).
# JANE_E2E_PORT_BASE: the sandbox's base port (default: from the pid, apart for concurrent tests).
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNBOOK=${RUNBOOK:?set RUNBOOK to the runbook binary}
SANDBOX=$SOURCE_DIR/examples/jane-sandbox/sandbox.sh
RB=$SOURCE_DIR/runbooks
TMP=$(mktemp -d /tmp/jane-e2e-runbooks.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/sb
PORT_BASE=${JANE_E2E_PORT_BASE:-$((20000 + ($$ % 400) * 20 + 10))}
WRITER_PID=""
cleanup() {
  [ -z "$WRITER_PID" ] || kill "$WRITER_PID" 2>/dev/null || true
  "$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true
  [ -n "${JANE_E2E_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

T0=$SECONDS
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1 = $3"; }
q() { "$SANDBOX" psql "$1" "$2" --dir "$DIR" -tA -c "$3"; }
OUT=$TMP/out
mkdir -p "$OUT"
rb() {  # EXPECTED_RC NAME ARGS...: runs the binary, keeps its output, checks its exit code
  local want=$1 name=$2 rc=0 t0=$SECONDS
  shift 2
  "$RUNBOOK" "$@" >"$OUT/$name.log" 2>&1 </dev/null || rc=$?
  if [ "$rc" != "$want" ]; then
    tail -40 "$OUT/$name.log" >&2
    fail "runbook $name: exit $rc, expected $want"
  fi
  echo "ok: runbook $name exits $want ($((SECONDS - t0)) s)"
}
shows() {  # NAME TEXT WHAT: the output of runbook NAME contains TEXT (fixed string)
  grep -qF -- "$2" "$OUT/$1.log" || { tail -40 "$OUT/$1.log" >&2; fail "$1: the output does not show $3 ('$2')"; }
  echo "ok: $1 shows $3"
}

up_args=(up --size small --dir "$DIR" --port-base "$PORT_BASE")
[ "${JANE_E2E_SSH:-0}" = 0 ] || up_args+=(--ssh)
"$SANDBOX" "${up_args[@]}" >"$OUT/up.log"
# shellcheck disable=SC1091
. "$DIR/sandbox.env"  # exports JANE_PROD_DB_PASSWORD, JANE_DEV_DB_PASSWORD
export RUNBOOK_STATE_DIR=$TMP/state
inv() { echo -i "$DIR/inventory.yaml" -i "$DIR/params/$1.yaml"; }
echo "ok: sandbox up ($((SECONDS - T0)) s)"

# superuser pg_dump of the application database of one cluster. pg_dump 15.14+ brackets its
# output in \restrict/\unrestrict with a random key per dump: the only lines dropped.
dump() {  # prod|dev PG_DUMP_ARGS...
  local side=$1 sock port
  shift
  if [ "$side" = prod ]; then sock=$PROD_PG_SOCKET port=$PROD_PG_PORT; else sock=$DEV_PG_SOCKET port=$DEV_PG_PORT; fi
  pg_dump -h "$sock" -p "$port" -U postgres -d jane "$@" | grep -v '^\\\(un\)\?restrict '
}

# ---- what a dry run must leave alone -----------------------------------------------------------
# Both clusters (the application databases in full, roles with a hash of their password hash,
# databases, the client sessions other than the engine's), and every file of the sandbox that a
# runbook touches (checkouts and local_settings.py, user bases, scratch dir, backups, pid files of
# the web server and the indexers, the upstream repository) and the engine's state directory:
# path, type, mode, owner, size, mtime, and the content's checksum.
snapshot() {  # NAME
  local s=$TMP/snap/$1 side
  mkdir -p "$s"
  for side in prod dev; do
    if [ "$(q "$side" postgres "SELECT count(*) FROM pg_database WHERE datname = 'jane'")" = 1 ]; then
      dump "$side" >"$s/$side.sql"
    fi
    q "$side" postgres "SELECT rolname, rolsuper, rolcanlogin, md5(coalesce(rolpassword, '')) FROM pg_authid ORDER BY 1" >"$s/$side.roles"
    q "$side" postgres "SELECT datname, pg_get_userbyid(datdba) FROM pg_database ORDER BY 1" >"$s/$side.databases"
    q "$side" postgres "SELECT pid, datname, usename, application_name FROM pg_stat_activity
                         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                           AND application_name NOT LIKE 'runbook/%' ORDER BY pid" >"$s/$side.sessions"
  done
  local p paths=()
  for p in "$DIR"/{prod/jane,prod/.local,prod/backups,prod/run,dev,work,upstream} "$RUNBOOK_STATE_DIR"; do
    [ ! -e "$p" ] || paths+=("$p")  # one that appears later shows in the comparison
  done
  find "${paths[@]}" -printf '%p %y %m %u %s %T@\n' | sort >"$s/files"
  find "${paths[@]}" -type f -print0 | sort -z | xargs -0 -r sha256sum >"$s/sums"
}
unchanged_since() {  # NAME WHAT
  local before=$TMP/snap/$1 after=$TMP/snap/$1.after
  snapshot "$1.after"
  if ! diff -r "$before" "$after" >"$OUT/$1.diff"; then
    head -40 "$OUT/$1.diff" >&2
    fail "$2 changed something"
  fi
  echo "ok: $2 changed nothing ($(cat "$before"/*.sql 2>/dev/null | wc -l) dump lines, $(wc -l <"$before/files") paths compared)"
}

# shellcheck disable=SC2046
rb 0 validate validate "$RB/clone-prod.yaml" "$RB/upgrade-dev.yaml" "$RB/upgrade-prod.yaml" -i "$DIR/inventory.yaml"

# ---- clone-prod: plan and dry run --------------------------------------------------------------
# Every 50th file of 2000 (40), at most 30 of them; their traces (5 each), at most 100.
SAMPLE=(--set sample_every=50 --set file_limit=30 --set trace_limit=100)
snapshot pristine
# shellcheck disable=SC2046
rb 0 plan-clone plan "$RB/clone-prod.yaml" $(inv clone-prod) "${SAMPLE[@]}"
for id in table-sizes dump-small-tables create-owner-role drop-dev-db create-dev-db restore-dump \
          sample-files sample-traces copy-user-packages copy-app-tree point-settings django-check \
          runserver-smoke; do
  grep -q -- "$id" "$OUT/plan-clone.log" || fail "plan does not show step $id"
done
echo "ok: the plan shows every step"
# shellcheck disable=SC2046
rb 0 dry-run-clone-first run "$RB/clone-prod.yaml" $(inv clone-prod) "${SAMPLE[@]}" --dry-run --yes
unchanged_since pristine "plan and dry run of clone-prod on a new sandbox"

# ---- clone-prod, failing in the middle, resumed ---------------------------------------------------
# A role that exists on production only, with a grant in the dump: the restore (psql,
# ON_ERROR_STOP, one transaction) stops at the GRANT, the classic failure of restoring a plain
# dump onto another cluster.
q prod jane "CREATE ROLE jane_reader NOLOGIN; GRANT SELECT ON waveforms_path TO jane_reader" >/dev/null
# shellcheck disable=SC2046
rb 1 clone-failing run "$RB/clone-prod.yaml" $(inv clone-prod) "${SAMPLE[@]}" --yes
shows clone-failing 'role "jane_reader" does not exist' "psql's error"
RUN_ID=$(basename "$(ls -d "$RUNBOOK_STATE_DIR"/clone-prod/runs/*)")
JOURNAL=$RUNBOOK_STATE_DIR/clone-prod/runs/$RUN_ID/journal.jsonl
# attempts STEP...: how many times each step was started in the run, from its journal.
attempts() {
  python3 - "$JOURNAL" "$@" <<'EOF'
import collections, json, sys
started = collections.Counter()
for line in open(sys.argv[1]):
    rec = json.loads(line.split(" ", 1)[1])
    if rec["type"] == "step_started":
        started[rec["step"]] += 1
print(" ".join(f"{s}={started[s]}" for s in sys.argv[2:]))
EOF
}
outcome() {  # STEP: its last outcome in the journal
  python3 - "$JOURNAL" "$1" <<'EOF'
import json, sys
last = "none"
for line in open(sys.argv[1]):
    rec = json.loads(line.split(" ", 1)[1])
    if rec["type"] == "step_finished" and rec["step"] == sys.argv[2]:
        last = rec["outcome"]
print(last)
EOF
}
eq "the restore failed" "$(outcome restore-dump)" failure
eq "steps started by the failed run" "$(attempts dump-small-tables restore-dump sample-files)" \
  "dump-small-tables=1 restore-dump=1 sample-files=0"
eq "no table restored (one transaction)" "$(q dev jane "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0
dump_id=$(stat -c '%i %y %s' "$DIR/work/clone/jane.sql")
# The operator's fix, on the development server.
q dev postgres "CREATE ROLE jane_reader NOLOGIN" >/dev/null
rb 0 clone-resumed resume --yes  # copy-app-tree, not reached by the failed run, asks to confirm
eq "same run resumed" "$(basename "$(ls -d "$RUNBOOK_STATE_DIR"/clone-prod/runs/*)")" "$RUN_ID"
eq "dump file not rewritten (inode, mtime, size)" "$(stat -c '%i %y %s' "$DIR/work/clone/jane.sql")" "$dump_id"
eq "steps started over both invocations" "$(attempts table-sizes dump-small-tables restore-dump sample-files)" \
  "table-sizes=1 dump-small-tables=1 restore-dump=2 sample-files=1"
grep -q '"type":"run_resumed"' "$JOURNAL" || fail "no run_resumed record in the journal"
[ "$(grep -c '; 1 foreign key checked after the copy)' "$OUT/clone-resumed.log")" = 2 ] ||
  fail "clone-resumed: the two samples' foreign keys were not checked after the copy (foreign_keys: after_copy)"
echo "ok: clone-resumed checked the samples' foreign keys once after each copy"
eq "run outcome" "$("$RUNBOOK" status "$RUN_ID" --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["outcome"])')" success

# ---- the clone is production's, sampled ----------------------------------------------------------
dump prod --schema-only >"$OUT/prod-schema.sql"
dump dev --schema-only >"$OUT/dev-schema.sql"
diff -u "$OUT/prod-schema.sql" "$OUT/dev-schema.sql" >"$OUT/schema.diff" ||
  { head -40 "$OUT/schema.diff" >&2; fail "pg_dump --schema-only differs between prod and dev"; }
echo "ok: pg_dump --schema-only identical on prod and dev ($(grep -c '^CREATE' "$OUT/prod-schema.sql") CREATE statements)"
# The data of every other table, and every sequence, whole.
small=(--data-only --exclude-table-data=waveforms_file --exclude-table-data=waveforms_continuoustrace)
cmp -s <(dump prod "${small[@]}") <(dump dev "${small[@]}") || fail "the small tables differ between prod and dev"
echo "ok: the small tables and the sequences are production's"
mig="SELECT id, app, name, applied FROM django_migrations ORDER BY id"
[ "$(q dev jane "$mig")" = "$(q prod jane "$mig")" ] || fail "django_migrations differ: $(diff <(q prod jane "$mig") <(q dev jane "$mig"))"
echo "ok: django_migrations on dev as on prod ($(q dev jane "SELECT count(*) FROM django_migrations") rows)"

# The samples: the files at positions 50, 100, ... in id order (the wiki's row_number() % 50),
# the first 30; the traces of those files, the first 100 by id; whole rows, as on production.
want_files="SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM waveforms_file) s WHERE n % 50 = 0 ORDER BY id LIMIT 30"
rows() { echo "SELECT md5(string_agg(t::text, ',' ORDER BY t.id)) FROM $1 t WHERE t.id IN ($2)"; }
eq "sampled files (every 50th of 2000, at most 30)" "$(q dev jane "SELECT count(*) FROM waveforms_file")" 30
eq "sampled files are production's rows at those positions" \
  "$(q dev jane "$(rows waveforms_file "SELECT id FROM waveforms_file")")" "$(q prod jane "$(rows waveforms_file "$want_files")")"
want_traces="SELECT id FROM waveforms_continuoustrace WHERE file_id IN ($want_files) ORDER BY id LIMIT 100"
eq "sampled traces (5 per file = 150, at most 100)" "$(q dev jane "SELECT count(*) FROM waveforms_continuoustrace")" 100
eq "sampled traces are production's first 100 of those files" \
  "$(q dev jane "$(rows waveforms_continuoustrace "SELECT id FROM waveforms_continuoustrace")")" \
  "$(q prod jane "$(rows waveforms_continuoustrace "$want_traces")")"
# One query per foreign key of the public schema (the sampled tables' among them): rows whose
# key is set and has no parent.
fk_checks=$("$SANDBOX" psql dev jane --dir "$DIR" -tA <<'EOF'
SELECT format('SELECT %L || '' '' || count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
              format('%s -> %s (%s)', c.conrelid::regclass, c.confrelid::regclass, c.conname), c.conrelid::regclass,
              string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND '), c.confrelid::regclass,
              string_agg(format('p.%I = c.%I', pa.attname, ca.attname), ' AND '))
  FROM pg_constraint c
 CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(child, parent)
  JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child
  JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent
 WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
 GROUP BY c.oid, c.conname, c.conrelid, c.confrelid
 ORDER BY 1
\gexec
EOF
)
for fk in "waveforms_file -> waveforms_path" "waveforms_continuoustrace -> waveforms_file"; do
  grep -q "^$fk " <<<"$fk_checks" || fail "no foreign key $fk checked: $fk_checks"
done
dangling=$(awk '$NF != 0' <<<"$fk_checks")
[ -z "$dangling" ] || fail "dangling foreign keys on dev: $dangling"
echo "ok: no dangling row in any of the $(wc -l <<<"$fk_checks") foreign keys on dev"

eq "dev database owner" "$(q dev postgres "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'jane'")" jane
grep -q "\"PORT\": \"$DEV_PG_PORT\"\|'PORT': '$DEV_PG_PORT'" "$DIR/dev/jane-dev/src/jane/local_settings.py" ||
  fail "local_settings.py does not point at the dev cluster"
echo "ok: local_settings.py points at the dev cluster"
[ -d "$DIR/dev/.local-jane-dev" ] || fail "user packages not copied"
git() { command git -c safe.directory='*' "$@"; }  # the checkouts may belong to the hosts' users
eq "dev checkout at production's commit" "$(git -C "$DIR/dev/jane-dev" rev-parse HEAD)" "$(git -C "$DIR/prod/jane" rev-parse HEAD)"

# A dry run of clone-prod now, when it would drop and replace everything it made.
snapshot cloned
# shellcheck disable=SC2046
rb 0 dry-run-clone run "$RB/clone-prod.yaml" $(inv clone-prod) "${SAMPLE[@]}" --dry-run --yes
unchanged_since cloned "the dry run of clone-prod on a cloned sandbox"

# ---- upgrade-dev ---------------------------------------------------------------------------------
snapshot before-upgrade-dev
# shellcheck disable=SC2046
rb 0 dry-run-upgrade-dev run "$RB/upgrade-dev.yaml" $(inv upgrade-dev) --dry-run --yes
unchanged_since before-upgrade-dev "the dry run of upgrade-dev"
# shellcheck disable=SC2046
rb 0 upgrade-dev run "$RB/upgrade-dev.yaml" $(inv upgrade-dev) --yes
mig="SELECT string_agg(name, ',' ORDER BY name) FROM django_migrations WHERE app = 'waveforms'"
eq "0003 applied on dev" "$(q dev jane "$mig")" "0001_initial,0002_auto_20160706_1508,0003_auto_waveform_continuoustrace_unique_constraint"
eq "0003 not on prod yet" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508"

# ---- upgrade-prod: dry run, with a query old enough to be cancelled ------------------------------
session_pid() {  # APPLICATION_NAME [STATE]: the backend pid of that session on production, once it is there
  local pid=""
  for _ in $(seq 50); do
    pid=$(q prod postgres "SELECT pid FROM pg_stat_activity WHERE application_name = '$1' ${2:+AND state = '$2'}")
    [ -z "$pid" ] || break
    sleep 0.1
  done
  [ -n "$pid" ] || fail "no session $1 ${2:-} on production"
  echo "$pid"
}
"$SANDBOX" long-query 600 --dir "$DIR" >/dev/null
long_pid=$(session_pid jane-report active)
sleep 2
snapshot before-upgrade-prod
# shellcheck disable=SC2046
rb 0 dry-run-upgrade-prod run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1s --set idle_wait=5s --dry-run --yes
unchanged_since before-upgrade-prod "the dry run of upgrade-prod (web, indexers and the long query left alone)"
# No backup yet: migrate's backup_fresh guard does not hold now, but the backup step runs first.
shows dry-run-upgrade-prod "does not hold now; it would be evaluated again after" "the backup guard as undecided"
shows dry-run-upgrade-prod "the run would start" "the verdict"
shows dry-run-upgrade-prod "would cancel now pid $long_pid " "the query cancel-long-queries would cancel"
eq "long query still active" "$(q prod postgres "SELECT state FROM pg_stat_activity WHERE pid = $long_pid")" active

# ---- upgrade-prod, blocked by a query too young to cancel -----------------------------------------
# shellcheck disable=SC2046
rb 3 upgrade-prod-blocked run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1h --set idle_wait=5s --yes
shows upgrade-prod-blocked "cancelled 0 queries" "that the young query was not cancelled"
shows upgrade-prod-blocked ": postgres_idle: postgres is busy on prod" "the guard waiting"
shows upgrade-prod-blocked "pid $long_pid " "the active query's pid"
shows upgrade-prod-blocked "pg_sleep(600)" "the active query's text"
eq "young query not cancelled" "$(q prod postgres "SELECT state FROM pg_stat_activity WHERE pid = $long_pid")" active
eq "not migrated" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508"
"$DIR/bin/jane-web" status >/dev/null || fail "web not started again after the blocked run (finally)"
"$DIR/bin/jane-indexers" status >/dev/null || fail "indexers not started again after the blocked run"
echo "ok: finally started web and indexers again"

# ---- upgrade-prod: the query cancelled, blocked by a writing session -----------------------------
# An UPDATE in a transaction left open, as an operator's forgotten psql: idle in transaction,
# holding a lock the migration of waveforms_continuoustrace needs. cancel_queries (read-only) must
# leave it; postgres_idle must not hold while it is there.
mkfifo "$TMP/writer.fifo"
PGPASSWORD=$JANE_PROD_DB_PASSWORD PGAPPNAME=jane-writer psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
  -p "$PROD_PG_PORT" -U jane -d jane <"$TMP/writer.fifo" >"$OUT/writer.log" 2>&1 &
WRITER_PID=$!
exec 7>"$TMP/writer.fifo"
echo "BEGIN; UPDATE waveforms_continuoustrace SET quality = 'M' WHERE id = 1;" >&7
writer_pid=$(session_pid jane-writer 'idle in transaction')
# shellcheck disable=SC2046
rb 3 upgrade-prod-writer run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1s --set idle_wait=5s --fresh --yes
shows upgrade-prod-writer "cancelled pid $long_pid " "the cancelled query's pid"
eq "long query cancelled" "$(q prod postgres "SELECT count(*) FROM pg_stat_activity WHERE pid = $long_pid AND state = 'active'")" 0
shows upgrade-prod-writer "pid $writer_pid " "the writing session's pid"
shows upgrade-prod-writer "UPDATE waveforms_continuoustrace SET quality" "the writing session's last query"
shows upgrade-prod-writer "idle in transaction" "the writing session's state"
eq "writing session left alone" "$(q prod postgres "SELECT state FROM pg_stat_activity WHERE pid = $writer_pid")" "idle in transaction"
eq "not migrated" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508"
echo "ROLLBACK;" >&7
exec 7>&-
wait "$WRITER_PID" || fail "the writing session failed: $(cat "$OUT/writer.log")"
WRITER_PID=""

# ---- upgrade-prod, for real -------------------------------------------------------------------
# shellcheck disable=SC2046
rb 0 upgrade-prod run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1s --set idle_wait=5s --fresh --yes
eq "0003 applied on prod" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508,0003_auto_waveform_continuoustrace_unique_constraint"
eq "migration state of prod and dev" "$(q prod jane "$mig")" "$(q dev jane "$mig")"
ls "$DIR"/prod/backups/jane-*/toc.dat >/dev/null || fail "no backup"
eq "one backup (the later runs found it fresh)" "$(ls -d "$DIR"/prod/backups/jane-* | wc -l)" 1
# Made while Jane served: in the run that made it (the blocked one), before stop-web started.
python3 - "$RUNBOOK_STATE_DIR"/upgrade-prod/runs/*/journal.jsonl <<'PYEOF' || fail "the backup was not made before stop-web"
import json, sys
made = []
for path in sys.argv[1:]:
    events = [json.loads(line.split(" ", 1)[1]) for line in open(path)]
    seq = [(e["type"], e.get("step"), e.get("outcome")) for e in events]
    if ("step_finished", "backup", "success") in seq:
        made.append(path)
        assert seq.index(("step_finished", "backup", "success")) < seq.index(("step_started", "stop-web", None)), seq
assert len(made) == 1, made
PYEOF
echo "ok: the backup was made while Jane served, before stop-web"
[ -f "$DIR/prod/jane/static/waveforms/jane.css" ] || fail "collectstatic did not run"
"$DIR/bin/jane-web" status >/dev/null && "$DIR/bin/jane-indexers" status >/dev/null || fail "not running after the upgrade"
curl -fsS "http://127.0.0.1:$PROD_WEB_PORT/health" | grep -q 0003_auto || fail "the site does not report 0003"
echo "ok: production runs with 0003"

# ---- secrets ---------------------------------------------------------------------------------------
# The passwords reach pg_dump/psql through env, the dev one also a role (bind parameters) and a
# settings file; they must not come out anywhere else.
eq "dev role has the dev password" \
  "$(PGPASSWORD=$JANE_DEV_DB_PASSWORD psql -X -h 127.0.0.1 -p "$DEV_PG_PORT" -U jane -d jane -tAc "SELECT current_user")" jane
if grep -rlE -- "$JANE_PROD_DB_PASSWORD|$JANE_DEV_DB_PASSWORD" "$OUT" "$RUNBOOK_STATE_DIR" 2>/dev/null; then
  fail "a password appears in the files above"
fi
echo "ok: the passwords appear in no output, log or journal"
echo "PASS ($((SECONDS - T0)) s)"
