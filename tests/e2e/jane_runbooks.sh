#!/usr/bin/env bash
# The three Jane runbooks driven by the real binary ($RUNBOOK) against a small sandbox, through
# an inventory: validate, plan (changes nothing), clone-prod, upgrade-dev, upgrade-prod blocked
# by a long query that is too young to cancel (exit 3, everything started again), then
# upgrade-prod again, which cancels it and migrates. Checks the databases, the processes, and
# that the password appears in no output, log or journal.
# JANE_E2E_SSH=1: the sandbox's hosts are reached over ssh (sandbox.sh up --ssh; needs root).
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNBOOK=${RUNBOOK:?set RUNBOOK to the runbook binary}
SANDBOX=$SOURCE_DIR/examples/jane-sandbox/sandbox.sh
RB=$SOURCE_DIR/runbooks
TMP=$(mktemp -d /tmp/jane-e2e-runbooks.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/sb
PORT_BASE=$((20000 + ($$ % 400) * 20 + 10))
trap '"$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"; echo "ok: $1 = $3"; }
q() { "$SANDBOX" psql "$1" "$2" --dir "$DIR" -tA -c "$3"; }
OUT=$TMP/out
mkdir -p "$OUT"
rb() {  # EXPECTED_RC NAME ARGS...: runs the binary, keeps its output, checks its exit code
  local want=$1 name=$2 rc=0
  shift 2
  "$RUNBOOK" "$@" >"$OUT/$name.log" 2>&1 </dev/null || rc=$?
  if [ "$rc" != "$want" ]; then
    tail -40 "$OUT/$name.log" >&2
    fail "runbook $name: exit $rc, expected $want"
  fi
  echo "ok: runbook $name exits $want"
}

up_args=(up --size small --dir "$DIR" --port-base "$PORT_BASE")
[ "${JANE_E2E_SSH:-0}" = 0 ] || up_args+=(--ssh)
"$SANDBOX" "${up_args[@]}" >"$OUT/up.log"
# shellcheck disable=SC1091
. "$DIR/sandbox.env"  # exports JANE_PROD_DB_PASSWORD, JANE_DEV_DB_PASSWORD
export RUNBOOK_STATE_DIR=$TMP/state
inv() { echo -i "$DIR/inventory.yaml" -i "$DIR/params/$1.yaml"; }

# shellcheck disable=SC2046
rb 0 validate validate "$RB/clone-prod.yaml" "$RB/upgrade-dev.yaml" "$RB/upgrade-prod.yaml" -i "$DIR/inventory.yaml"

# ---- clone-prod ----------------------------------------------------------------------------------
# shellcheck disable=SC2046
rb 0 plan-clone plan "$RB/clone-prod.yaml" $(inv clone-prod) --set sample_every=50 --set trace_limit=150
for id in table-sizes dump-small-tables create-owner-role drop-dev-db create-dev-db restore-dump \
          sample-files sample-traces copy-user-packages copy-app-tree point-settings django-check \
          runserver-smoke; do
  grep -q -- "$id" "$OUT/plan-clone.log" || fail "plan does not show step $id"
done
echo "ok: the plan shows every step"
eq "the plan created no role on dev" "$(q dev postgres "SELECT count(*) FROM pg_roles WHERE rolname = 'jane'")" 0
[ ! -e "$DIR/work/clone/jane.sql" ] || fail "the plan dumped"

# shellcheck disable=SC2046
rb 0 clone run "$RB/clone-prod.yaml" $(inv clone-prod) --set sample_every=50 --set trace_limit=150 --yes
eq "sampled files (every 50th of 2000)" "$(q dev jane "SELECT count(*) FROM waveforms_file")" 40
eq "sampled traces (limit 150)" "$(q dev jane "SELECT count(*) FROM waveforms_continuoustrace")" 150
eq "traces of sampled files only" \
  "$(q dev jane "SELECT count(*) FROM waveforms_continuoustrace t LEFT JOIN waveforms_file f ON f.id = t.file_id WHERE f.id IS NULL")" 0
eq "sampled traces are production's rows" \
  "$(q dev jane "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM waveforms_continuoustrace t")" \
  "$(q prod jane "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM waveforms_continuoustrace t WHERE id IN ($(q dev jane "SELECT string_agg(id::text, ',') FROM waveforms_continuoustrace"))")"
eq "small tables whole" "$(q dev jane "SELECT count(*) FROM documents_document")" "$(q prod jane "SELECT count(*) FROM documents_document")"
eq "dev database owner" "$(q dev postgres "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'jane'")" jane
grep -q "\"PORT\": \"$DEV_PG_PORT\"\|'PORT': '$DEV_PG_PORT'" "$DIR/dev/jane-dev/src/jane/local_settings.py" ||
  fail "local_settings.py does not point at the dev cluster"
echo "ok: local_settings.py points at the dev cluster"
[ -d "$DIR/dev/.local-jane-dev" ] || fail "user packages not copied"
git() { command git -c safe.directory='*' "$@"; }  # the checkouts may belong to the hosts' users
eq "dev checkout at production's commit" "$(git -C "$DIR/dev/jane-dev" rev-parse HEAD)" "$(git -C "$DIR/prod/jane" rev-parse HEAD)"

# ---- upgrade-dev ---------------------------------------------------------------------------------
# shellcheck disable=SC2046
rb 0 upgrade-dev run "$RB/upgrade-dev.yaml" $(inv upgrade-dev) --yes
mig="SELECT string_agg(name, ',' ORDER BY name) FROM django_migrations WHERE app = 'waveforms'"
eq "0003 applied on dev" "$(q dev jane "$mig")" "0001_initial,0002_auto_20160706_1508,0003_auto_waveform_continuoustrace_unique_constraint"
eq "0003 not on prod yet" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508"

# ---- upgrade-prod, blocked by a query too young to cancel ------------------------------------------
"$SANDBOX" long-query 600 --dir "$DIR" >/dev/null
sleep 2
# shellcheck disable=SC2046
rb 3 upgrade-prod-blocked run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1h --yes
grep -q "pg_sleep" "$OUT/upgrade-prod-blocked.log" || fail "the blocking guard does not show the active query"
echo "ok: the guard shows the active query"
eq "not migrated" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508"
"$DIR/bin/jane-web" status >/dev/null || fail "web not started again after the blocked run (finally)"
"$DIR/bin/jane-indexers" status >/dev/null || fail "indexers not started again after the blocked run"
echo "ok: finally started web and indexers again"

# ---- upgrade-prod, for real -------------------------------------------------------------------
# shellcheck disable=SC2046
rb 0 upgrade-prod run "$RB/upgrade-prod.yaml" $(inv upgrade-prod) --set long_query_age=1s --fresh --yes
eq "0003 applied on prod" "$(q prod jane "$mig")" "0001_initial,0002_auto_20160706_1508,0003_auto_waveform_continuoustrace_unique_constraint"
eq "long query cancelled" "$(q prod postgres "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jane-report' AND state = 'active'")" 0
ls "$DIR"/prod/backups/jane-*.dump >/dev/null || fail "no backup"
eq "one backup (the second run found it fresh)" "$(ls "$DIR"/prod/backups/jane-*.dump | wc -l)" 1
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
echo PASS
