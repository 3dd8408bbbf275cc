#!/usr/bin/env bash
# The plan's verdict and exit code are the run's, so `plan && run` is a gate: 0 when the run would
# start; 4 when it would be refused (its lock held, an unfinished run without --resume/--fresh);
# 3 when it would be blocked (a guard, a database server that does not answer).
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"

cat >ok.yaml <<'YAML'
name: verdict
steps:
  - id: first
    run: test ! -e fail-first
  - id: second
    run: sleep "${NAP:-0}"
    needs: [first]
YAML
expect_exit 0 "$RUNBOOK" plan ok.yaml
grep -q '^the run would start$' last.out || fail "verdict line: $(tail -3 last.out)"
ok "a plan that would start exits 0"

touch fail-first
expect_exit 1 "$RUNBOOK" run ok.yaml
rm fail-first
expect_exit 4 "$RUNBOOK" plan ok.yaml
grep -q 'is unfinished: `run --resume` continues it' last.out || fail "no reason: $(tail -3 last.out)"
expect_exit 4 "$RUNBOOK" run ok.yaml   # and the run agrees
expect_exit 0 "$RUNBOOK" plan ok.yaml --resume
expect_exit 0 "$RUNBOOK" plan ok.yaml --fresh
expect_exit 0 "$RUNBOOK" plan ok.yaml --format json --resume
python3 -c "import json; p=json.load(open('last.out')); assert p['verdict']=='start' and p['reasons']==[], p['verdict']"
expect_exit 4 "$RUNBOOK" plan ok.yaml --format json
python3 -c "import json; p=json.load(open('last.out')); assert p['verdict']=='refused' and len(p['reasons'])==1, p"
ok "an unfinished run: refused (4) unless --resume or --fresh, as run is"

expect_exit 0 "$RUNBOOK" resume ok.yaml
NAP=30 "$RUNBOOK" run ok.yaml --fresh >/dev/null 2>&1 &
runner=$!
cleanup_hooks+=("kill $runner 2>/dev/null")
for _ in $(seq 100); do pgrep -f 'sleep 30' >/dev/null && break; sleep 0.1; done
expect_exit 4 "$RUNBOOK" plan ok.yaml --fresh
grep -q "the lock 'verdict' is held by pid $runner" last.out || fail "lock holder: $(tail -3 last.out)"
expect_exit 4 "$RUNBOOK" run ok.yaml --fresh
kill "$runner"; wait "$runner" 2>/dev/null || true
ok "a held lock: refused (4), naming the holder"

cat >db.yaml <<'YAML'
name: verdict-db
databases:
  gone: {conninfo: "host=127.0.0.1 port=1 dbname=x connect_timeout=3"}
steps:
  - id: q
    sql: {db: gone, query: "select 1"}
YAML
expect_exit 3 "$RUNBOOK" plan db.yaml
grep -q 'database gone: its server does not answer' last.out || fail "db reason: $(tail -3 last.out)"
expect_exit 0 "$RUNBOOK" plan db.yaml --offline
ok "a database server that does not answer: blocked (3); offline checks nothing"

cat >guard.yaml <<'YAML'
name: verdict-guard
steps:
  - id: g
    guards:
      - command: "false"
    run: echo never
YAML
expect_exit 3 "$RUNBOOK" plan guard.yaml
grep -q 'a guard would block the run' last.out || fail "guard reason"
ok "a guard that blocks: 3"
echo "plan_verdict: $pass_count checks passed"
