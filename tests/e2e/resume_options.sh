#!/usr/bin/env bash
# Issue 15: a run is resumable from any directory (runbook and inventory paths journaled
# absolute); the journal and `status` say who ran and resumed it, where, and how each question was
# answered (on the terminal or by --yes).
source "$(dirname "$0")/lib/common.bash"
mkdir -p "$TEST_TMP/work/site"
cd "$TEST_TMP/work"
cat >site/inv.yaml <<'YAML'
params:
  word: hello
YAML
cat >relinv.yaml <<YAML
name: relinv
params:
  word: {type: string}
steps:
  - id: one
    run: echo "\$RUNBOOK_PARAM_WORD" >>"$TEST_TMP/one.out"
  - id: gate
    needs: [one]
    confirm: open the gate
    run: test -f "$TEST_TMP/open" && echo "\$RUNBOOK_PARAM_WORD" >>"$TEST_TMP/gate.out"
YAML
expect_exit 1 "$RUNBOOK" run relinv.yaml -i site/inv.yaml --yes
run_id=$(basename "$(run_dir_of relinv)")
journal="$(run_dir_of relinv)/journal.jsonl"
grep -qF "\"inventories\":[\"$TEST_TMP/work/site/inv.yaml\"]" "$journal" ||
  fail "the inventory is not journaled absolute: $(head -1 "$journal")"
ok "runbook and inventory paths are journaled absolute"

touch "$TEST_TMP/open"
cd /
expect_exit 0 "$RUNBOOK" resume "$run_id" --yes
[ "$(cat "$TEST_TMP/gate.out")" = hello ] || fail "the resumed step did not get the inventory's param"
[ "$(wc -l <"$TEST_TMP/one.out")" = 1 ] || fail "the finished step ran again"
ok "resume from / of a run started with a relative -i"

me=$(id -un)
expect_exit 0 "$RUNBOOK" status "$run_id"

grep -qE "^started .* by $me@$(hostname) pid [0-9]+$" "$TEST_TMP/last.out" ||
  fail "status does not name who started the run: $(cat "$TEST_TMP/last.out")"
grep -qE "^resumed .* by $me@$(hostname) pid [0-9]+$" "$TEST_TMP/last.out" ||
  fail "status does not name who resumed the run: $(cat "$TEST_TMP/last.out")"
grep -qE "^  gate +yes by --yes, nobody was asked" "$TEST_TMP/last.out" ||
  fail "status does not say how the confirmation was given: $(cat "$TEST_TMP/last.out")"
grep -q '"type":"confirmation".*"by":"yes"\|"by":"yes".*"type":"confirmation"' "$journal" ||
  fail "the journal does not record --yes as the answer"
grep -q '"type":"run_resumed".*"user":"'"$me"'"' "$journal" || fail "run_resumed has no user"
expect_exit 0 "$RUNBOOK" status "$run_id" --format json
python3 - "$TEST_TMP/last.out" "$me" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["user"] == sys.argv[2], s
assert [x["user"] for x in s["sessions"]] == [sys.argv[2]] * 2, s["sessions"]
assert [(c["step"], c["by"]) for c in s["confirmations"]] == [("gate", "yes"), ("gate", "yes")], s["confirmations"]
PY
ok "the journal and status name the OS user and host of the run and its resume, and how each confirmation was given"
echo "resume_options: $pass_count checks passed"
