#!/usr/bin/env bash
# What the morning after reads: `status`, `history` and `logs` include the finally steps; every
# log line carries its time; each attempt's start and end are marked in the step's log, with the
# failure's message (a command's exit status) there and not only on the terminal.
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"
cat >night.yaml <<'YAML'
name: night
steps:
  - id: flaky
    retries: 1
    run: 'echo "try $(cat n 2>/dev/null || echo 0)"; n=$(( $(cat n 2>/dev/null || echo 0) + 1 )); echo $n >n; [ $n -ge 2 ]'
finally:
  - id: restart-web
    run: echo web started
YAML
expect_exit 0 "$RUNBOOK" run night.yaml
run_id=$(basename "$(run_dir_of night)")

expect_exit 0 "$RUNBOOK" status "$run_id"
grep -q '^finally:$' last.out && grep -qE '^  restart-web +success' last.out ||
  fail "status leaves out the finally step: $(cat last.out)"
grep -qE '^  flaky +success .* 2 attempts' last.out || fail "attempts: $(cat last.out)"
ok "status shows the finally step"
expect_exit 0 "$RUNBOOK" status "$run_id" --format json
python3 -c "import json,sys; s=json.load(open('last.out'))['steps']; assert [(x['id'], x['finally']) for x in s] == [('flaky', False), ('restart-web', True)], s"
ok "status --format json marks it"
expect_exit 0 "$RUNBOOK" history
grep -q "1/1 steps, finally 1/1" last.out || fail "history: $(cat last.out)"
ok "history counts the finally steps"

expect_exit 0 "$RUNBOOK" logs "$run_id"
grep -q '^==> restart-web (finally) <==$' last.out || fail "logs leave out the finally step"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
bad=$(grep -v '^==> ' last.out | grep -vE "^$ts " || true)
[ -z "$bad" ] || fail "log lines without a timestamp: $bad"
grep -qE "^$ts == attempt 1 of 2 started$" last.out || fail "no attempt 1 mark"
grep -qE "^$ts try 0$" last.out || fail "output of attempt 1"
grep -qE "^$ts == attempt 1 failed: exit 1$" last.out || fail "attempt 1's failure not in the log"
grep -qE "^$ts == attempt 2 of 2 started$" last.out || fail "no attempt 2 mark"
grep -qE "^$ts == attempt 2 succeeded: exit 0$" last.out || fail "attempt 2's end"
grep -qE "^$ts web started$" last.out || fail "the finally step's output"
ok "logs: timestamps, attempts and their outcomes"
echo "post_mortem: $pass_count checks passed"
