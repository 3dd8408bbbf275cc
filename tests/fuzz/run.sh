#!/bin/bash
# Builds the loader fuzzer with clang into build-fuzz and runs it for SECONDS (default 60) on a
# seed corpus of every runbook in the repo. Exits non-zero if the fuzzer finds a crash, a leak or
# a sanitizer report; the reproducer is left in build-fuzz/artifacts/.
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
cmake --build "$build" -j"${JOBS:-2}" --target loader_fuzz

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
