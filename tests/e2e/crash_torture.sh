#!/usr/bin/env bash
# Crash torture: a 30-step runbook whose steps append their id to a file; runs killed with SIGKILL
# at a random instant, then resumed with --yes. Every step appears at least once, a step the
# journal recorded as finished never runs again, the journal always parses, and the resumed run
# ends with exit 0. ITERATIONS (default 100) sets the number of runs.
source "$(dirname "$0")/lib/common.bash"
iterations=${ITERATIONS:-100}
out="$TEST_TMP/out.txt"
rb="$TEST_TMP/torture.yaml"
{
  echo "name: torture"
  echo "steps:"
  for i in $(seq -w 1 30); do
    echo "  - id: s$i"
    [ "$i" != 01 ] && echo "    needs: [s$(printf %02d $((10#$i - 1)))]"
    echo "    run: echo s$i >> '$out'; sleep 0.0\$((RANDOM % 3))"
  done
} >"$rb"

# Step ids the journal recorded as finished successfully (torn last line ignored, as the engine does).
finished_steps() {
  python3 - "$1" <<'PY'
import json, sys, zlib
lines = open(sys.argv[1], 'rb').read().split(b'\n')
done = set()
for i, raw in enumerate(lines):
    if not raw:
        continue
    try:
        crc, body = raw.split(b' ', 1)
        rec = json.loads(body)
    except Exception:
        if i >= len(lines) - 2:   # only the last (unterminated) line may be torn
            continue
        print("CORRUPT", file=sys.stderr); sys.exit(3)
    if rec.get("type") == "step_finished" and rec.get("outcome") == "success":
        done.add(rec["step"])
print("\n".join(sorted(done)))
PY
}

killed_mid=0 killed_before=0 killed_after=0 reran=0 total_finished_at_kill=0
for iter in $(seq 1 "$iterations"); do
  rm -rf "$RUNBOOK_STATE_DIR" "$out"
  "$RUNBOOK" run "$rb" --yes >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf %03d $((RANDOM % 900)))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  runs=("$RUNBOOK_STATE_DIR"/torture/runs/*)
  # Killed before the journal's first record was complete: no run exists yet.
  if [ ! -f "${runs[0]}/journal.jsonl" ] || [ "$(wc -l <"${runs[0]}/journal.jsonl")" = 0 ]; then
    killed_before=$((killed_before + 1))
    expect_exit 0 "$RUNBOOK" run "$rb" --yes --fresh
  else
    journal="${runs[0]}/journal.jsonl"
    finished=$(finished_steps "$journal") || fail "iteration $iter: journal corrupt after kill -9"
    total_finished_at_kill=$((total_finished_at_kill + $(echo -n "$finished" | grep -c . || true)))
    declare -A before=()
    for s in $finished; do before[$s]=$(grep -cx "$s" "$out" || true); done
    expect_exit 0 "$RUNBOOK" status "$(basename "${runs[0]}")" --format json
    if grep -q '"type":"run_finished"' "$journal"; then
      killed_after=$((killed_after + 1))
    else
      killed_mid=$((killed_mid + 1))
      set +e
      "$RUNBOOK" resume "$rb" --yes >"$TEST_TMP/resume.out" 2>&1
      rc=$?
      set -e
      [ "$rc" = 0 ] || { cat "$TEST_TMP/resume.out"; fail "iteration $iter: resume exited $rc"; }
      for s in $finished; do
        now=$(grep -cx "$s" "$out" || true)
        [ "$now" = "${before[$s]}" ] || fail "iteration $iter: step $s was finished but ran again"
      done
      finished_steps "$journal" >/dev/null || fail "iteration $iter: journal corrupt after resume"
    fi
    unset before
  fi
  for i in $(seq -w 1 30); do
    grep -qx "s$i" "$out" || fail "iteration $iter: step s$i never ran"
  done
  reran=$((reran + $(wc -l <"$out") - 30))
done
echo "crash torture: $iterations runs killed with SIGKILL: $killed_mid mid-run (resumed to exit 0)," \
  "$killed_before before the journal existed, $killed_after after the run finished;" \
  "$total_finished_at_kill finished steps at kill time, none ran again;" \
  "$reran step executions repeated (interrupted steps rerun with --yes)"
echo "$iterations passed, 0 failed"
