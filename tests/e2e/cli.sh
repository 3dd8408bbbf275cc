#!/usr/bin/env bash
# The command line around the runs: a misspelt command names the nearest, --help lists the exit
# codes, `completion bash|zsh` completes commands, options, step ids and run ids in a real shell,
# and `prune --older-than` removes finished runs but never one a resume may need.
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"

expect_exit 2 "$RUNBOOK" statsu
grep -qF "unknown command 'statsu' (did you mean 'status'?)" last.err || fail "no suggestion: $(cat last.err)"
ok "statsu -> did you mean 'status'"
expect_exit 0 "$RUNBOOK" --help
grep -qE '^  130  interrupted' last.out && grep -qE '^  4    refused to start' last.out ||
  fail "exit codes missing from --help"
ok "--help lists the exit codes"

cat >ok.yaml <<'YAML'
name: ok
steps:
  - id: prepare-host
    run: echo one
  - id: prune-old
    run: echo two
    needs: [prepare-host]
YAML
cat >fails.yaml <<'YAML'
name: fails
steps:
  - id: boom
    run: exit 1
YAML
cat >sleeps.yaml <<'YAML'
name: sleeps
steps:
  - id: nap
    run: sleep 600
YAML

# --- completion, in the shells an operator uses
mkdir -p bin && ln -s "$RUNBOOK" bin/runbook
export PATH="$TEST_TMP/bin:$PATH"
"$RUNBOOK" completion bash >complete.bash
# complete_words LINE...: the completions bash offers for the last word of LINE
complete_words() {
  bash -c 'source ./complete.bash; COMP_WORDS=($1); [ "${1: -1}" = " " ] && COMP_WORDS+=("");
           COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _runbook; printf "%s\n" "${COMPREPLY[@]}"' _ "$1"
}
[ "$(complete_words 'runbook sta' | sort | tr '\n' ' ')" = "state status " ] || fail "command: $(complete_words 'runbook sta')"
[ "$(complete_words 'runbook statu')" = status ] || fail "command: $(complete_words 'runbook statu')"
complete_words 'runbook run --fr' | grep -qx -- --fresh || fail "option --fresh not offered"
complete_words 'runbook plan ok.yaml --of' | grep -qx -- --offline || fail "--offline not offered"
[ "$(complete_words 'runbook completion z')" = zsh ] || fail "completion shells"
ok "bash completes commands and options"

expect_exit 0 "$RUNBOOK" run ok.yaml
run_id=$(basename "$(run_dir_of ok)")
[ "$(complete_words 'runbook logs ')" = "$run_id" ] || fail "run ids: $(complete_words 'runbook logs ')"
ok "bash completes run ids"
# Step ids for options that take them (when the command has them).
complete_words 'runbook run ok.yaml --only pr' | sort | tr '\n' ' ' | grep -qx 'prepare-host prune-old ' ||
  fail "step ids: $(complete_words 'runbook run ok.yaml --only pr')"
[ "$(complete_words 'runbook run ok.yaml --only prepare-host,prune')" = prepare-host,prune-old ] ||
  fail "second id of a list"
complete_words "runbook resume $run_id --rerun pr" | sort | tr '\n' ' ' | grep -qx 'prepare-host prune-old ' ||
  fail "step ids of a run: $(complete_words "runbook resume $run_id --rerun pr")"
ok "bash completes step ids after --only, --from, --rerun (of the runbook file or the run named)"
[ "$("$RUNBOOK" __complete steps ok.yaml | tr '\n' ' ')" = "prepare-host prune-old " ] ||
  fail "__complete steps"
"$RUNBOOK" __complete steps missing.yaml >out 2>&1 && [ ! -s out ] || fail "__complete prints errors"
ok "step ids listed quietly"

if command -v zsh >/dev/null || [ "${CI:-}" = true ]; then  # make deps installs zsh
  "$RUNBOOK" completion zsh >complete.zsh
  # bashcompinit calls the function with ksharrays set (0-based arrays, as in bash); so does
  # this. Its compgen offers every word: zsh's compadd then keeps those that match.
  zsh_words() {
    zsh -c 'source ./complete.zsh; setopt ksharrays; COMP_WORDS=(${=1}); COMP_CWORD=$2;
            _runbook; print -l "${COMPREPLY[@]}"' _ "$1" "$2"
  }
  zsh_words 'runbook hist' 1 | grep -qx history || fail "zsh commands: $(zsh_words 'runbook hist' 1)"
  zsh_words 'runbook logs x' 2 | grep -qx "$run_id" || fail "zsh run ids"
  ok "zsh completes through bashcompinit"
fi

# --- prune
expect_exit 1 "$RUNBOOK" run fails.yaml
expect_exit 0 "$RUNBOOK" run ok.yaml  # a second, newer successful run of ok
"$RUNBOOK" run sleeps.yaml >/dev/null 2>&1 &
sleeper=$!
cleanup_hooks+=("kill -9 $sleeper 2>/dev/null")
for _ in $(seq 50); do [ -d "$RUNBOOK_STATE_DIR/sleeps/runs" ] && break; sleep 0.1; done
sleep 0.5
kill -9 "$sleeper"; wait "$sleeper" 2>/dev/null || true
pkill -9 -f "sleep 600" || true
sleep 0.1

expect_exit 0 "$RUNBOOK" prune --older-than 1d
grep -q "removed 0 runs" last.out || fail "a recent run was pruned: $(cat last.out)"
expect_exit 0 "$RUNBOOK" prune --older-than 0s --dry-run
grep -q "would remove 2 runs" last.out || fail "dry run: $(cat last.out)"
[ "$(ls "$RUNBOOK_STATE_DIR/ok/runs" | wc -l)" = 2 ] || fail "the dry run removed something"
expect_exit 0 "$RUNBOOK" prune --older-than 0s
cat last.out
grep -q "removed 2 runs" last.out || fail "prune: $(cat last.out)"
[ "$(ls "$RUNBOOK_STATE_DIR/ok/runs" | wc -l)" = 0 ] || fail "ok's finished runs still there"
[ "$(ls "$RUNBOOK_STATE_DIR/fails/runs" | wc -l)" = 1 ] || fail "the failed run resume needs is gone"
[ "$(ls "$RUNBOOK_STATE_DIR/sleeps/runs" | wc -l)" = 1 ] || fail "the crashed run is gone"
grep -q "kept    fails" last.out && grep -q "kept    sleeps" last.out || fail "kept runs not named"
ok "prune removes finished runs, keeps the failed and the crashed one"
expect_exit 2 "$RUNBOOK" prune --older-than soon
grep -q "older-than" last.err || fail "bad duration message"
ok "a bad --older-than is refused"

echo "cli: $pass_count checks passed"
