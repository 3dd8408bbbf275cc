#!/bin/bash
# Cost of `runbook validate` and `runbook plan --offline` (JSON and text) on synthetic runbooks of
# 1k, 10k and 100k steps (bench/gen_runbook.py): wall time, CPU time (user + sys) and peak RSS,
# median of RUNS (3), with the targets beside them (10k steps <= 150 ms, 100k <= 1.5 s, peak RSS
# < 200 MB at 100k) and the load average when each row was measured: on a shared machine wall
# time grows with the load, CPU time much less.
#
#   bench/validate_plan.sh [BUILD_DIR]   env: SIZES ("1000 10000 100000"), RUNS (3)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
runbook=$build/runbook
runs=${RUNS:-3}
sizes=${SIZES:-1000 10000 100000}
work=$(mktemp -d /tmp/runbook-vp-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
export RUNBOOK_STATE_DIR=$work/state

# median of the lines on stdin (numbers)
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure CMD...: prints "seconds cpu-seconds kilobytes", each the median of $runs runs
measure() {
  local out=$work/time.txt times=() cpus=() rss=() i
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -o "$out" -f '%e %U %S %M' "$@" >/dev/null 2>"$work/stderr" ||
      { echo "failed: $*" >&2; cat "$work/stderr" >&2; exit 1; }
    read -r t u s m <"$out"
    times+=("$t") cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')") rss+=("$m")
  done
  echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${cpus[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median)"
}

# target_ms STEPS: the wall-time target in ms, "-" for sizes without one
target_ms() {
  case $1 in
    10000) echo 150 ;;
    100000) echo 1500 ;;
    *) echo - ;;
  esac
}

printf '%-8s %-10s %8s %8s %7s %7s %8s %7s %5s %s\n' steps command "file MB" "wall ms" "cpu ms" target "peak MB" "RSS tgt" load verdict
for n in $sizes; do
  f=$work/bench-$n.yaml
  python3 "$root/bench/gen_runbook.py" "$n" >"$f"
  mb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')
  for cmd in validate plan-json plan-text; do
    case $cmd in
      validate) read -r t c m < <(measure "$runbook" validate "$f") ;;
      plan-json) read -r t c m < <(measure "$runbook" plan "$f" --offline --format json) ;;
      plan-text) read -r t c m < <(measure "$runbook" plan "$f" --offline) ;;
    esac
    ms=$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')
    cpu=$(awk -v c="$c" 'BEGIN { printf "%.0f", c * 1000 }')
    peak=$(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }')
    tgt=$(target_ms "$n")
    rss_tgt=-
    [ "$n" = 100000 ] && rss_tgt=200
    verdict=""
    if [ "$tgt" != - ] && [ "$ms" -gt "$tgt" ]; then verdict+="SLOW "; fi
    if [ "$rss_tgt" != - ] && awk -v p="$peak" -v r="$rss_tgt" 'BEGIN { exit !(p >= r) }'; then
      verdict+="BIG "
    fi
    if [ -z "$verdict" ]; then
      if [ "$tgt" = - ] && [ "$rss_tgt" = - ]; then verdict=-; else verdict=ok; fi
    fi
    printf '%-8s %-10s %8s %8s %7s %7s %8s %7s %5s %s\n' "$n" "$cmd" "$mb" "$ms" "$cpu" "$tgt" "$peak" \
      "$rss_tgt" "$(cut -d' ' -f1 /proc/loadavg)" "$verdict"
  done
done
echo "(median of $runs runs; /usr/bin/time resolution is 10 ms; verdicts judge wall time; load: $(cut -d' ' -f1-3 /proc/loadavg))"
