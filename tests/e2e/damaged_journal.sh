#!/usr/bin/env bash
# Issue 15: a journal that cannot be read from its first record (zeros, garbage) is refused with
# exit 4 naming the file, by run, resume, status and plan alike: never taken for "no run", which
# would start over and repeat steps that had succeeded.
source "$(dirname "$0")/lib/common.bash"
cat >"$TEST_TMP/dj.yaml" <<YAML
name: damaged
steps:
  - id: once
    run: echo ran >>"$TEST_TMP/once.count"
  - id: fails
    needs: [once]
    run: test -f "$TEST_TMP/fixed"
YAML
for damage in zeros garbage; do
  rm -rf "$RUNBOOK_STATE_DIR" "$TEST_TMP/once.count" "$TEST_TMP/fixed"
  expect_exit 1 "$RUNBOOK" run "$TEST_TMP/dj.yaml"
  [ "$(wc -l <"$TEST_TMP/once.count")" = 1 ] || fail "$damage: 'once' did not run once"
  journal="$(run_dir_of damaged)/journal.jsonl"
  size=$(stat -c %s "$journal")
  if [ "$damage" = zeros ]; then
    head -c "$size" /dev/zero >"$journal"
  else
    head -c "$size" /dev/urandom | tr '\n' 'x' >"$journal"  # no line of it can be valid
  fi
  touch "$TEST_TMP/fixed"
  for cmd in "run $TEST_TMP/dj.yaml" "run --resume $TEST_TMP/dj.yaml" "resume" \
             "resume $TEST_TMP/dj.yaml" "resume $(basename "$(dirname "$journal")")"; do
    # shellcheck disable=SC2086
    expect_exit 4 "$RUNBOOK" $cmd
    grep -qF "$journal" "$TEST_TMP/last.err" "$TEST_TMP/last.out" ||
      { cat "$TEST_TMP/last.err"; fail "$damage: '$cmd' does not name $journal"; }
    grep -q "cannot be read from its first record" "$TEST_TMP/last.err" "$TEST_TMP/last.out" ||
      { cat "$TEST_TMP/last.err"; fail "$damage: '$cmd' does not say the journal is damaged"; }
  done
  [ "$(wc -l <"$TEST_TMP/once.count")" = 1 ] || fail "$damage: 'once' ran again"
  [ "$(ls "$RUNBOOK_STATE_DIR/damaged/runs" | wc -l)" = 1 ] || fail "$damage: a new run was started"
  expect_exit 4 "$RUNBOOK" status
  grep -qF "$journal" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "$damage: status does not name $journal"; }
  ok "a journal overwritten with $damage is refused (exit 4, named) and nothing runs again"
done

# A journal cut inside its first record (the engine died writing it; nothing had run) is still a
# run that never started: run starts a new one.
rm -rf "$RUNBOOK_STATE_DIR" "$TEST_TMP/once.count"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/dj.yaml"
journal="$(run_dir_of damaged)/journal.jsonl"
head -c 40 "$journal" >"$journal.cut" && mv "$journal.cut" "$journal"
expect_exit 0 "$RUNBOOK" run "$TEST_TMP/dj.yaml"
[ "$(ls "$RUNBOOK_STATE_DIR/damaged/runs" | wc -l)" = 2 ] || fail "no new run after a torn first record"
ok "a first record cut off while written is a run that never started"
echo "$pass_count passed"
