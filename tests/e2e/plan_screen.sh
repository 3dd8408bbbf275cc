#!/usr/bin/env bash
# The plan as an operator reads it the evening before (issue 17), of the shipped upgrade-prod:
#  - its summary (the lines before the first empty one) fits one 80x24 screen, online (servers
#    not answering: the most it says) and offline; in a real 80x24 terminal (tmux), `plan | less`
#    shows the whole summary on its first screen;
#  - each step once: a step id heads one line only, the SQL of show-activity is printed once, a
#    multi-line script is one indented block;
#  - params as an aligned list; the database's conninfo resolved with the password masked;
#  - "already done" in words: a resume plan says "already done (succeeded in run ID), skipped",
#    a step whose done_when holds "already done (its done_when holds now), skipped", one skipped
#    by its if: "skipped, as in run ID"; no
#    "-> would" left.
source "$(dirname "$0")/lib/common.bash"
command -v tmux >/dev/null || fail "tmux is not installed (make deps installs it)"
command -v less >/dev/null || fail "less is not installed"

RB="$SOURCE_DIR/runbooks/upgrade-prod.yaml"
export JANE_PROD_DB_PASSWORD=plan-screen-pw-1 JANE_DEV_DB_PASSWORD=plan-screen-pw-2
# No server answers (port 9, not the sandbox's, which another test may run): the plan lists
# every database and guard that fails.
cat >"$TEST_TMP/site.yaml" <<'YAML'
databases:
  prod:
    conninfo: "host=127.0.0.1 port=9 dbname=jane user=jane"
    password: "${{ secrets.prod_db_password }}"
YAML
port_args=(-i "$TEST_TMP/site.yaml" --set app_dir="$TEST_TMP/none" --set backup_dir="$TEST_TMP/backups")

# summary_fits FILE WHAT: the lines before the first empty line are at most 23 (a prompt line
# stays on screen) and at most 80 columns.
summary_fits() {
  local lines width
  lines=$(awk '/^$/ { exit } { n++ } END { print n }' "$1")
  width=$(awk '/^$/ { exit } { if (length($0) > w) w = length($0) } END { print w }' "$1")
  [ "$lines" -le 23 ] && [ "$width" -le 80 ] ||
    { cat "$1"; fail "$2: the summary is $lines lines of up to $width columns, not 23 x 80"; }
  ok "$2: the summary is $lines lines of at most $width columns"
}

expect_exit 3 "$RUNBOOK" plan "$RB" "${port_args[@]}"
cp "$TEST_TMP/last.out" "$TEST_TMP/online.txt"
summary_fits "$TEST_TMP/online.txt" "online"
grep -q '^guards that do not hold now:$' "$TEST_TMP/online.txt" ||
  { cat "$TEST_TMP/online.txt"; fail "the summary does not list the guards that fail"; }
expect_exit 0 "$RUNBOOK" plan "$RB" "${port_args[@]}" --offline
cp "$TEST_TMP/last.out" "$TEST_TMP/offline.txt"
summary_fits "$TEST_TMP/offline.txt" "offline"

summary=$(awk '/^$/ { exit } { print }' "$TEST_TMP/online.txt")
for want in "^plan of upgrade-prod " "^the run would be blocked (exit 3):$" \
  "^steps: 15, then 4 finally; 18 would run$" "^  skipped (its if: is false): reindex$" \
  "^asks for confirmation: stop-web and migrate-current; by hand check-everything" \
  "^downtime: from the start of stop-web to the end of start-web, 11 steps inside" \
  "^expected downtime: unknown (no earlier run measured it)$" \
  "^expected duration: unknown (no earlier run)$"; do
  grep -q -- "$want" <<<"$summary" || { echo "$summary"; fail "the summary lacks /$want/"; }
done
ok "the summary gives the verdict, the steps, the questions, the guards, downtime and duration"

# In a real terminal of 80x24: the first screen of `plan | less` holds the whole summary.
session="rb-e2e-plan-screen-$$"
cleanup_hooks+=("tmux kill-session -t $session 2>/dev/null")
tmux new-session -d -s "$session" -x 80 -y 24 \
  "env TERM=xterm-256color RUNBOOK_STATE_DIR='$RUNBOOK_STATE_DIR' JANE_PROD_DB_PASSWORD=x JANE_DEV_DB_PASSWORD=y '$RUNBOOK' plan '$RB' -i '$TEST_TMP/site.yaml' --set app_dir='$TEST_TMP/none' --set backup_dir='$TEST_TMP/backups' | less -R; sleep 600"
screen=""
for _ in $(seq 100); do
  screen=$(tmux capture-pane -p -t "$session")
  grep -q "^expected duration: " <<<"$screen" && break
  sleep 0.1
done
grep -q "^plan of upgrade-prod" <<<"$screen" && grep -q "^expected duration: " <<<"$screen" ||
  { echo "$screen"; fail "the first 80x24 screen of the plan does not hold its summary"; }
tmux send-keys -t "$session" q
ok "in an 80x24 terminal the first screen holds the whole summary"

# Each step once; SQL once; a script as one block; params aligned; conninfo masked.
for id in fetch backup stop-web show-activity migrate check-everything; do
  n=$(grep -c "^[| ] $id \[" "$TEST_TMP/offline.txt")
  [ "$n" = 1 ] || { cat "$TEST_TMP/offline.txt"; fail "step $id is headed $n times"; }
done
n=$(grep -c "FROM pg_stat_activity AS a" "$TEST_TMP/offline.txt")
[ "$n" = 1 ] || { cat "$TEST_TMP/offline.txt"; fail "show-activity's SQL is printed $n times"; }
grep -q '^      \$ set -eu$' "$TEST_TMP/offline.txt" && grep -q '^        git fetch --quiet$' "$TEST_TMP/offline.txt" ||
  { cat "$TEST_TMP/offline.txt"; fail "fetch's script is not one indented block"; }
grep -q '^  backup_max_age          24h$' "$TEST_TMP/offline.txt" &&
  grep -q '^  reindex_document_types  ""$' "$TEST_TMP/offline.txt" ||
  { cat "$TEST_TMP/offline.txt"; fail "params are not an aligned list"; }
grep -q '^  prod  user=jane dbname=jane host=127.0.0.1 port=9 password=\*\*\*$' "$TEST_TMP/offline.txt" ||
  { cat "$TEST_TMP/offline.txt"; fail "the database's conninfo is not shown resolved and masked"; }
grep -q "plan-screen-pw" "$TEST_TMP/offline.txt" "$TEST_TMP/online.txt" && fail "a password is in the plan"
grep -q -- "-> would" "$TEST_TMP/offline.txt" "$TEST_TMP/online.txt" && fail "a '-> would' verdict is left"
ok "each step once, SQL once, a script as a block, params aligned, conninfo masked"

# "Already done" in words: a done_when that holds, and a resume of a failed run.
cat >"$TEST_TMP/done.yaml" <<'YAML'
name: plan-screen-done
params: {go: {type: boolean, default: false}}
steps:
  - id: maybe
    if: ${{ params.go }}
    run: echo maybe
  - id: first
    run: echo first
    done_when:
      - command: "true"
  - id: second
    run: echo second
  - id: third
    needs: [second]
    run: exit 1
YAML
expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/done.yaml"
grep -q '^  first \[run\]: already done (its done_when holds now), skipped$' "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "a step whose done_when holds is not said to be already done"; }
expect_exit 1 "$RUNBOOK" run "$TEST_TMP/done.yaml"
run_id=$(basename "$(run_dir_of plan-screen-done)")
expect_exit 0 "$RUNBOOK" plan "$TEST_TMP/done.yaml" --resume
grep -q "^  second \[run\]: already done (succeeded in run $run_id), skipped$" "$TEST_TMP/last.out" &&
  grep -q "^  third \[run\]: runs again (failed in run $run_id)$" "$TEST_TMP/last.out" &&
  grep -q "^  already done in run $run_id, skipped: first and second$" "$TEST_TMP/last.out" &&
  grep -q "^  maybe \[run\]: skipped, as in run $run_id$" "$TEST_TMP/last.out" &&
  grep -q "^  skipped, as in run $run_id: maybe$" "$TEST_TMP/last.out" ||
  { cat "$TEST_TMP/last.out"; fail "the resume plan does not say in words what it would skip"; }
ok "already done is said in words, with the run it was done in"
echo "plan_screen: $pass_count checks passed"
