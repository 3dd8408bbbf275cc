#!/usr/bin/env bash
# Issue 17: how long Jane is down, as a user sees it, while production is upgraded (waveforms
# migration 0003), two ways on the same Jane sandbox:
#   runbook   `runbook run runbooks/upgrade-prod.yaml --jobs $JOBS --yes`
#   wiki      the wiki's steps in the wiki's order, by hand: stop web, stop indexers, look at
#             pg_stat_activity, pg_dump -Fc, migrate, git pull, showmigrations, migrate,
#             collectstatic, start web, start indexers
# A poller fetches the site's start page every 100 ms; the downtime is the longest time between
# two answers 200. Each run gets a fresh sandbox; the rounds interleave the two ways (runbook,
# wiki, runbook, wiki, ...); the table gives each run, the medians and their ratio. Floor: the
# runbook's median at most 0.5x the wiki order's (exit 1 otherwise).
# Then, as `make demo` does, the clone onto the maintenance server two ways on one fresh sandbox:
# `runbook run clone-prod.yaml` and the seed page's commands (examples/jane-sandbox/seed-way.sh),
# with the runbook's steps for the phases the seed way does (the database part) added up.
#
#   bench/downtime.sh [BUILD_DIR]
#   env: ROUNDS (3), SIZE (default: the sandbox's default size, ~750 MB; small for a quick try),
#        JOBS (4), PORT_BASE (29430: above the ports the e2e tests pick), OUT (a directory for each run's log and poll timeline;
#        default: a temporary one, removed at the end)
# The Jane sandboxes share this machine's CPUs and the demo's fixed ports: run it as
# `flock -o /tmp/jane_sandbox.lock bench/downtime.sh` (bench/run.sh does; -o, or the sandbox's
# servers inherit the lock and hold it after the script).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
RUNBOOK=$build/runbook
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-default}
JOBS=${JOBS:-4}
PORT_BASE=${PORT_BASE:-29430}
SANDBOX=$root/examples/jane-sandbox/sandbox.sh
[ -x "$RUNBOOK" ] || { echo "downtime: no runbook binary in $build" >&2; exit 2; }

W=$(mktemp -d /tmp/jane-bench-downtime.XXXXXX)
chmod 755 "$W"
DIR=$W/sb
OUT=${OUT:-$W/out}
mkdir -p "$OUT"
POLLER_PID=""
cleanup() {
  [ -z "$POLLER_PID" ] || kill "$POLLER_PID" 2>/dev/null || true
  "$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# The poller: GET URL every 100 ms (each request at most 5 s) until FILE exists and the site
# answers, then prints the longest time between two 200s, the number of requests and of failed
# ones. Each request's start (s since the poller started), status and duration go to TIMELINE;
# READYFILE appears at the first 200.
poll() {  # URL STOPFILE TIMELINE READYFILE
  /usr/bin/python3 - "$1" "$2" "$3" "$4" <<'EOF'
import os, sys, time, urllib.error, urllib.request
url, stop, timeline, ready = sys.argv[1:5]
log = open(timeline, "w")
t_start = time.monotonic()
# No proxy, whatever the environment says: the site is on loopback.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
last_ok = stopped = None
longest = 0.0
requests = failed = 0
while True:
    t = time.monotonic()
    try:
        with opener.open(url, timeout=5) as r:
            status = r.status
            r.read()
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception as e:  # "URLError:ConnectionRefusedError" when nothing listens
        status = type(e).__name__ + ":" + type(getattr(e, "reason", e)).__name__
    ok = status == 200
    log.write(f"{t - t_start:.3f} {status} {time.monotonic() - t:.3f}\n")
    requests += 1
    if ok:
        if last_ok is not None:
            longest = max(longest, t - last_ok)
        else:
            open(ready, "w").close()
        last_ok = t
    else:
        failed += 1
    if os.path.exists(stop):
        stopped = stopped or t
        if ok:
            break
        if t - stopped > 30:  # the site did not come back: the gap so far counts
            longest = max(longest, t - (last_ok if last_ok is not None else t))
            break
    time.sleep(max(0.0, t + 0.1 - time.monotonic()))
print(f"{longest:.2f} {requests} {failed}")
EOF
}

# The wiki's "On Production Server" steps, in its order, as its operator types them.
wiki_order() (
  local app=$DIR/prod/jane src=$DIR/prod/jane/src
  export PYTHONUSERBASE=$DIR/prod/.local PGPASSWORD=$JANE_PROD_DB_PASSWORD
  local conn=(-h 127.0.0.1 -p "$PROD_PG_PORT" -U jane -d jane)
  "$DIR/bin/jane-web" stop
  "$DIR/bin/jane-indexers" stop
  psql -X "${conn[@]}" -c "SELECT pid, now() - a.query_start AS duration, query, state
                            FROM pg_stat_activity AS a WHERE state = 'active'"
  pg_dump "${conn[@]}" -Fc -f "$DIR/prod/backups/jane-$(date -u +%Y%m%dT%H%M%SZ).dump"
  (cd "$src" && /usr/bin/python3 manage.py migrate)
  git -C "$app" pull
  (cd "$src" && /usr/bin/python3 manage.py showmigrations)
  (cd "$src" && /usr/bin/python3 manage.py migrate)
  (cd "$src" && /usr/bin/python3 manage.py collectstatic --noinput)
  "$DIR/bin/jane-web" start
  "$DIR/bin/jane-indexers" start
)

runbook_order() {
  RUNBOOK_STATE_DIR=$W/state "$RUNBOOK" run "$root/runbooks/upgrade-prod.yaml" \
    -i "$DIR/inventory.yaml" -i "$DIR/params/upgrade-prod.yaml" --jobs "$JOBS" --yes
}

now() { date +%s.%N; }
declare -A DOWN=()
ROWS=()
one() {  # WAY ROUND
  local way=$1 round=$2 t0 t1 down requests failed
  rm -rf "$W/state"
  "$SANDBOX" up --size "$SIZE" --dir "$DIR" --port-base "$PORT_BASE" >"$W/up.log" 2>&1 ||
    { tail -20 "$W/up.log" >&2; echo "downtime: sandbox up failed" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$DIR/sandbox.env"
  rm -f "$W/stop" "$W/ready"
  poll "http://127.0.0.1:$PROD_WEB_PORT/" "$W/stop" "$OUT/poll-$way-$round.txt" "$W/ready" >"$W/poll.out" &
  POLLER_PID=$!
  # The upgrade starts once the poller has seen the site up (and then some 200s more).
  local i
  for i in $(seq 300); do [ -e "$W/ready" ] && break; sleep 0.1; done
  [ -e "$W/ready" ] || { echo "downtime: the site did not answer 200 within 30 s" >&2; exit 1; }
  sleep 1
  t0=$(now)
  if ! "${way}_order" >"$OUT/$way-$round.log" 2>&1; then
    tail -30 "$OUT/$way-$round.log" >&2
    echo "downtime: the $way upgrade failed (round $round)" >&2
    exit 1
  fi
  t1=$(now)
  touch "$W/stop"
  wait "$POLLER_PID"
  POLLER_PID=""
  local applied
  applied=$("$SANDBOX" psql prod jane --dir "$DIR" -tA -c \
    "SELECT count(*) FROM django_migrations WHERE name = '0003_auto_waveform_continuoustrace_unique_constraint'")
  [ "$applied" = 1 ] || { echo "downtime: $way did not apply 0003 (round $round)" >&2; exit 1; }
  read -r down requests failed <"$W/poll.out"
  DOWN[$way]+="$down "
  ROWS+=("$(printf '| %d | %s | %s | %.1f | %d | %d |' "$round" "$way" "$down" \
    "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')" "$requests" "$failed")")
  echo "round $round, $way: down $down s (load $(cut -d' ' -f1 /proc/loadavg))" >&2
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "downtime: $ROUNDS rounds, sandbox size $SIZE, runbook --jobs $JOBS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  one runbook "$round"
  one wiki "$round"
done

# The clone: runbook (whole run, and its database phases) against the seed way.
"$SANDBOX" up --size "$SIZE" --dir "$DIR" --port-base "$PORT_BASE" >"$W/up.log" 2>&1 ||
  { tail -20 "$W/up.log" >&2; echo "downtime: sandbox up failed" >&2; exit 1; }
# shellcheck disable=SC1091
. "$DIR/sandbox.env"
rm -rf "$W/state"
t0=$(now)
RUNBOOK_STATE_DIR=$W/state "$RUNBOOK" run "$root/runbooks/clone-prod.yaml" -i "$DIR/inventory.yaml" \
  -i "$DIR/params/clone-prod.yaml" --jobs "$JOBS" --yes >"$OUT/clone-runbook.log" 2>&1 ||
  { tail -30 "$OUT/clone-runbook.log" >&2; echo "downtime: clone-prod failed" >&2; exit 1; }
clone_rb=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
db_steps="dump-small-tables create-owner-role drop-dev-db create-dev-db restore-dump sample-files sample-traces"
clone_phases=$(RUNBOOK_STATE_DIR=$W/state "$RUNBOOK" status --format json | python3 -c '
import json, sys
took = {s["id"]: s.get("duration_ms", 0) for s in json.load(sys.stdin)["steps"]}
print("%.1f" % (sum(took.get(w, 0) for w in sys.argv[1].split()) / 1000))' "$db_steps")
t0=$(now)
"$root/examples/jane-sandbox/seed-way.sh" --dir "$DIR" >"$OUT/clone-seed.log" 2>&1 ||
  { tail -30 "$OUT/clone-seed.log" >&2; echo "downtime: seed-way.sh failed" >&2; exit 1; }
clone_seed=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
"$SANDBOX" down --dir "$DIR" >/dev/null 2>&1

rb=$(median <<<"${DOWN[runbook]}")
wiki=$(median <<<"${DOWN[wiki]}")
ratio=$(awk -v a="$rb" -v b="$wiki" 'BEGIN { printf "%.2f", a / b }')
echo
echo "| round | how | longest without a 200 (s) | run wall time (s) | requests | failed |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| how | median downtime (s) | ratio to the wiki order |"
echo "|---|---|---|"
echo "| runbook run upgrade-prod.yaml --jobs $JOBS | $rb | ${ratio}x |"
echo "| the wiki's steps in the wiki's order | $wiki | 1.00x |"
echo
echo "| clone onto the maintenance server (sandbox $SIZE) | time (s) | ratio to the seed way |"
echo "|---|---|---|"
echo "| runbook run clone-prod.yaml --jobs $JOBS, whole run | $clone_rb | $(awk -v a="$clone_rb" -v b="$clone_seed" 'BEGIN { printf "%.2f", a / b }')x |"
echo "| the same run, the seed way's phases ($db_steps) | $clone_phases | $(awk -v a="$clone_phases" -v b="$clone_seed" 'BEGIN { printf "%.2f", a / b }')x |"
echo "| the seed page's commands (seed-way.sh) | $clone_seed | 1.00x |"
echo
if awk -v r="$ratio" 'BEGIN { exit !(r <= 0.5) }'; then
  echo "floor: runbook downtime <= 0.5x the wiki order's: ${ratio}x, met (load $(cut -d' ' -f1-3 /proc/loadavg))"
else
  echo "floor: runbook downtime <= 0.5x the wiki order's: ${ratio}x, NOT met (load $(cut -d' ' -f1-3 /proc/loadavg))"
  exit 1
fi
