#!/usr/bin/env bash
# The demo: build the Jane sandbox, preview and run clone-prod, then upgrade-dev and upgrade-prod,
# compare with the wiki's manual clone, print a summary with upgrade-prod's expected and actual
# downtime and where each run's HTML report is. Exits non-zero when anything fails.
#
#   examples/demo.sh [RUNBOOK_BINARY]        (make demo passes build/runbook)
#
# As root, production and the development server are ssh hosts (sandbox.sh up --ssh: users jane
# and tremor behind a private sshd, each database reached through an ssh tunnel), as the wiki's two
# servers are; otherwise both are local hosts, and the demo says so.
#
# Environment: DEMO_SIZE=small|default (default: default), DEMO_DIR (default: $RUNBOOK_SANDBOX_DIR
# or /tmp/jane-sandbox), DEMO_PORT_BASE (default: the sandbox's), DEMO_SSH=auto|1|0 (default auto:
# ssh hosts when root), DEMO_STATE (default: DIR-state). The sandbox stays up afterwards;
# examples/jane-sandbox/sandbox.sh down --dir DIR removes it. The runs are kept in DEMO_STATE,
# beside the sandbox, so that a later demo expects the downtime earlier demos measured; the
# reports go to DIR/reports.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNBOOK=${1:-${RUNBOOK:-$ROOT/build/runbook}}
SIZE=${DEMO_SIZE:-default}
DIR=${DEMO_DIR:-${RUNBOOK_SANDBOX_DIR:-/tmp/jane-sandbox}}
STATE=${DEMO_STATE:-$DIR-state}
SANDBOX=$ROOT/examples/jane-sandbox/sandbox.sh
[ -x "$RUNBOOK" ] || { echo "demo: no runbook binary at $RUNBOOK (make build)" >&2; exit 2; }
RUNBOOK=$(cd "$(dirname "$RUNBOOK")" && pwd)/$(basename "$RUNBOOK")

banner() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }
[ -z "${NO_COLOR:-}" ] && [ -t 1 ] || banner() { printf '\n==== %s\n' "$*"; }

declare -a SUMMARY=()
record() { SUMMARY+=("$(printf '%-28s %-7s %8s s' "$1" "$2" "$3")"); }
finish() {
  local rc=$?
  banner "summary"
  printf '%s\n' "${SUMMARY[@]}"
  [ -z "${expected_downtime:-}" ] ||
    echo "upgrade-prod downtime: expected $expected_downtime, actual ${actual_downtime:-unknown (it did not run to the end)}"
  # Written also for a run that failed: that is when they are read.
  if [ -n "${REPORTS:-}" ] && compgen -G "$REPORTS/*.html" >/dev/null; then
    echo "run reports (open in a browser):" "$REPORTS"/*.html
  fi
  if [ "$rc" = 0 ]; then
    echo "demo: all done. The sandbox is still up in $DIR ($SANDBOX down --dir $DIR removes it)."
  else
    echo "demo: FAILED (exit $rc). Logs: $RUNBOOK logs <run id>; state in ${RUNBOOK_STATE_DIR:-}" >&2
  fi
}
trap finish EXIT

timed() {  # NAME CMD...: runs CMD, records its outcome and wall time
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s.%N)
  "$@" || rc=$?
  record "$name" "$([ $rc = 0 ] && echo ok || echo "exit $rc")" \
    "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')"
  return $rc
}

up_args=(up --size "$SIZE" --dir "$DIR")
[ -z "${DEMO_PORT_BASE:-}" ] || up_args+=(--port-base "$DEMO_PORT_BASE")
# The hosts: over ssh needs root (it adds two users and runs an sshd) and openssh-server (make deps).
HOSTS=local
case "${DEMO_SSH:-auto}" in
  0) ;;
  1) HOSTS=ssh ;;
  auto)
    if [ "$(id -u)" != 0 ]; then
      echo "demo: not root, so production and development are local hosts; as root the demo reaches" \
        "production over ssh and its PostgreSQL through a tunnel (sandbox.sh up --ssh)"
    elif [ ! -x /usr/sbin/sshd ]; then
      echo "demo: no /usr/sbin/sshd (make deps installs openssh-server), so production and" \
        "development are local hosts"
    else
      HOSTS=ssh
    fi ;;
  *) echo "demo: DEMO_SSH must be auto, 1 or 0" >&2; exit 2 ;;
esac
[ "$HOSTS" = local ] || up_args+=(--ssh)

banner "sandbox ($SIZE, $HOSTS hosts) in $DIR"
timed "sandbox up ($SIZE, $HOSTS)" "$SANDBOX" "${up_args[@]}"
# Ports, and the passwords the runbooks read as secrets (exported).
# shellcheck disable=SC1091
. "$DIR/sandbox.env"
export RUNBOOK_STATE_DIR=$STATE
REPORTS=$DIR/reports
mkdir -p "$REPORTS"

inv() { echo -i "$DIR/inventory.yaml" -i "$DIR/params/$1.yaml"; }

banner "runbook plan clone-prod"
# shellcheck disable=SC2046
timed "plan clone-prod" "$RUNBOOK" plan "$ROOT/runbooks/clone-prod.yaml" $(inv clone-prod)

# The downtime upgrade-prod's plan expects: the median of what earlier demos measured.
# shellcheck disable=SC2046
expected_downtime=$("$RUNBOOK" plan "$ROOT/runbooks/upgrade-prod.yaml" $(inv upgrade-prod) --offline --fresh \
  --format json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["downtime"]
print("%.1f s (median of %d earlier run%s)" % (d["expected_seconds"], d["measured_runs"], "" if d["measured_runs"] == 1 else "s")
      if d["expected_seconds"] is not None else "unknown (no earlier run measured it)")') ||
  expected_downtime="unknown (the plan failed)"

# --jobs 4: the runbooks declare which steps are independent (upgrade-prod's window is shortest so).
# --fresh: the sandbox is new, so a run an earlier demo left unfinished is not one to continue.
for rb in clone-prod upgrade-dev upgrade-prod; do
  banner "runbook run $rb --jobs 4 --yes"
  # shellcheck disable=SC2046
  timed "run $rb" "$RUNBOOK" run "$ROOT/runbooks/$rb.yaml" $(inv "$rb") --jobs 4 --yes --fresh \
    --report "$REPORTS/$rb.html"
done
actual_downtime=$("$RUNBOOK" status "$ROOT/runbooks/upgrade-prod.yaml" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin).get("downtime") or {}
print("%.1f s (%s .. %s)" % (d["duration_ms"] / 1000, d["from"], d["to"]) if d.get("duration_ms") is not None
      else "none measured (the window did not close)")')

banner "the same clone the wiki's way (seed-way.sh)"
timed "seed way (by hand) clone" "$ROOT/examples/jane-sandbox/seed-way.sh" --dir "$DIR"
# Like for like: seed-way.sh does the database part only (no ssh, no copy of the dump between
# the servers), so the runbook's steps for the same phases are added up from its run.
clone_run=$("$RUNBOOK" history 2>/dev/null | awk '$2 == "clone-prod" { id = $1 } END { print id }')
db_steps="dump-small-tables create-owner-role drop-dev-db create-dev-db restore-dump sample-files sample-traces"
db_secs=$("$RUNBOOK" status "$clone_run" --format json | python3 -c '
import json, sys
wanted = sys.argv[1].split()
took = {s["id"]: s.get("duration_ms", 0) for s in json.load(sys.stdin)["steps"]}
missing = [w for w in wanted if w not in took]
if missing:
    sys.exit("demo: clone-prod has no step " + ", ".join(missing))
print("%.1f" % (sum(took[w] for w in wanted) / 1000))' "$db_steps")
echo "clone-prod's steps for the same phases ($db_steps): $db_secs s ($HOSTS hosts)"
record "  clone-prod, same phases" ok "$db_secs"

banner "result"
if [ "$HOSTS" = ssh ]; then
  echo "hosts: prod = $PROD_USER@127.0.0.1 and dev = $DEV_USER@127.0.0.1 over ssh (port $SSH_PORT);" \
    "the databases through ssh tunnels (inventory: $DIR/inventory.yaml)"
else
  echo "hosts: prod and dev are local (inventory: $DIR/inventory.yaml)"
fi
q() { "$SANDBOX" psql "$1" jane --dir "$DIR" -tA -c "$2"; }
echo "production: $(q prod "SELECT count(*) FROM waveforms_file") files," \
  "$(q prod "SELECT count(*) FROM waveforms_continuoustrace") traces"
echo "development: $(q dev "SELECT count(*) FROM waveforms_file") files," \
  "$(q dev "SELECT count(*) FROM waveforms_continuoustrace") traces (sampled)"
for side in prod dev; do
  echo "waveforms migrations on $side: $(q "$side" "SELECT string_agg(name, ', ' ORDER BY name) FROM django_migrations WHERE app = 'waveforms'")"
done
"$SANDBOX" status --dir "$DIR"
curl -fsS "http://127.0.0.1:$PROD_WEB_PORT/health"
echo
