#!/bin/bash
# Builds the fuzzers with clang into build-fuzz and runs each for SECONDS (default 60): loader_fuzz
# on a seed corpus of every runbook in the repo, value_fuzz on values an attacker would try in
# templates and conninfo. Exits non-zero if a fuzzer finds a crash, a leak, a sanitizer report or
# a broken promise; the reproducer is left in build-fuzz/artifacts/.
#
#   bash tests/fuzz/run.sh [SECONDS]   env: FUZZ_BUILD (build-fuzz), JOBS (2)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD:-$root/build-fuzz}
cd "$root"

# Everything instrumented (ASan + coverage); -fsanitize=fuzzer is added on the fuzz target only.
flags="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer -g -O1"
cmake -S . -B "$build" -G Ninja -DRUNBOOK_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address" >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target loader_fuzz value_fuzz

# Seed corpus: copies, so the fuzzer's additions never land in the source tree.
corpus=$build/corpus
mkdir -p "$corpus" "$build/artifacts"
shopt -s nullglob globstar
for f in runbooks/*.yaml examples/**/*.yaml tests/invalid/*.yaml; do
  cp "$f" "$corpus/seed-$(echo "$f" | tr '/' '_')"
done

# -max_len: the biggest seed (15 KB) fits whole; longer inputs only slow the search down.
"$build/tests/fuzz/loader_fuzz" "$corpus" -max_total_time="$seconds" -max_len=16384 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/"

# value_fuzz seeds: the first byte picks the case (tests/fuzz/value_fuzz.cc), the rest is the value.
values=$build/value-corpus
mkdir -p "$values"
n=0
for case in 0 1 2 3 4 5 6 7 8; do
  for v in 'src host=10.6.6.6 port=1' "x' host='10.6.6.6" 'postgresql://10.6.6.6/x' 'a\ b' \
    '$(id)' '${{ secrets.v }}' 'a ${{ params.v }} ${{ env.HOME }}' '${{ steps.a.outcome == "success" }}'; do
    printf "\\x$(printf %02x "$case")%s" "$v" >"$values/seed-$((n += 1))"
  done
done
"$build/tests/fuzz/value_fuzz" "$values" -max_total_time="$seconds" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/"
