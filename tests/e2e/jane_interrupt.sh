#!/usr/bin/env bash
# Issue 15, Ctrl-C inside the maintenance window of the shipped upgrade-prod, in the Jane sandbox,
# from a real terminal (tmux): the operator presses Ctrl-C while `migrate` runs. The run stops
# (exit 130), the finally steps marked `on_interrupt: run` start the web server and the indexers
# again (Jane serves), the others wait; `resume` then finishes the run.
# The migration is made slow by the operator's Python (params.python): a wrapper that, for
# `manage.py migrate`, waits before it runs Python, so the Ctrl-C lands inside the step.
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
RUNBOOK=${RUNBOOK:?set RUNBOOK to the runbook binary}
SANDBOX=$SOURCE_DIR/examples/jane-sandbox/sandbox.sh
TMP=$(mktemp -d /tmp/jane-e2e-interrupt.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/sb
PORT_BASE=${JANE_E2E_PORT_BASE:-$((20000 + ($$ % 400) * 20 + 5))}
SESSION=rb-e2e-jane-int-$$
cleanup() {
  tmux kill-session -t "$SESSION" 2>/dev/null || true
  "$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  tmux capture-pane -p -t "$SESSION" -S -60 2>/dev/null >&2 || true
  exit 1
}
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"
wait_for() {  # FILE SECONDS WHAT
  for _ in $(seq $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
  fail "$3"
}

"$SANDBOX" up --size small --dir "$DIR" --port-base "$PORT_BASE" >"$TMP/up.log"
# shellcheck disable=SC1091
. "$DIR/sandbox.env"
export RUNBOOK_STATE_DIR=$TMP/state
echo "ok: sandbox up"

cat >"$TMP/python" <<EOF
#!/bin/sh
if [ "\$1 \$2" = "manage.py migrate" ] && [ ! -e "$TMP/migrating" ]; then
  echo \$\$ >"$TMP/migrating"
  sleep 300
fi
exec /usr/bin/python3 "\$@"
EOF
chmod 755 "$TMP/python"

"$DIR/bin/jane-web" status >/dev/null && "$DIR/bin/jane-indexers" status >/dev/null ||
  fail "web and indexers do not run before the upgrade"
args="-i '$DIR/inventory.yaml' -i '$DIR/params/upgrade-prod.yaml' --set python='$TMP/python' --set idle_wait=5s --yes"
tmux new-session -d -s "$SESSION" -x 120 -y 40 \
  "JANE_PROD_DB_PASSWORD='$JANE_PROD_DB_PASSWORD' JANE_DEV_DB_PASSWORD='$JANE_DEV_DB_PASSWORD' RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' '$RUNBOOK' run '$SOURCE_DIR/runbooks/upgrade-prod.yaml' $args; echo \$? >'$TMP/exit'; sleep 600"
wait_for "$TMP/migrating" 180 "migrate did not start"
if "$DIR/bin/jane-web" status >/dev/null; then fail "the web server runs during migrate"; fi
echo "ok: migrate runs with Jane stopped"
sleep 0.5
tmux send-keys -t "$SESSION" C-c
wait_for "$TMP/exit" 60 "the run did not end after Ctrl-C"
[ "$(cat "$TMP/exit")" = 130 ] || fail "exit $(cat "$TMP/exit") after Ctrl-C, want 130"
"$DIR/bin/jane-web" status >/dev/null || fail "the web server is not running after Ctrl-C"
"$DIR/bin/jane-indexers" status >/dev/null || fail "the indexers are not running after Ctrl-C"
curl -fsS -o /dev/null "http://127.0.0.1:$PROD_WEB_PORT/" || fail "Jane does not answer after Ctrl-C"
screen=$(tmux capture-pane -p -t "$SESSION" -S -200)
grep -q "ensure-web-started" <<<"$screen" || fail "the screen does not show the restart"
! kill -0 "$(cat "$TMP/migrating")" 2>/dev/null || fail "the interrupted migration still runs"
echo "ok: after Ctrl-C during migrate, web and indexers run again and Jane answers (exit 130)"

"$RUNBOOK" resume --yes >"$TMP/resume.log" 2>&1 </dev/null ||
  { tail -40 "$TMP/resume.log" >&2; fail "the resume failed"; }
"$DIR/bin/jane-web" status >/dev/null && "$DIR/bin/jane-indexers" status >/dev/null ||
  fail "web and indexers do not run after the resume"
echo "ok: the resume finishes the upgrade, Jane running"
echo "PASS"
