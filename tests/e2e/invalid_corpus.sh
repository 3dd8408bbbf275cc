#!/usr/bin/env bash
# The invalid-runbook corpus: every tests/invalid/*.yaml must be refused with exit 2 and with
# each expected error on stderr, on one line, as "FILE:LINE:COL: TEXT" (FILE as passed).
#
# Header lines (comments at the top of a corpus file):
#   # expect: LINE:COL: TEXT          an error located in this file
#   # expect-in: PATH:LINE:COL: TEXT  an error located in another file (an inventory); PATH from
#                                     the repository root, as passed with -i
#   # expect-set: TEXT                an error about a --set value (no file location)
#   # args: ARGS...                   extra arguments (-i PATH, --set K=V), paths from the repo root
#   # command: COMMAND ARGS...        the command to run instead of `validate` (e.g. `plan
#                                     --offline`, which takes --set and requires param values)
# Env: RUNBOOK (the binary), SOURCE_DIR (the repository root).
set -u
: "${RUNBOOK:?set RUNBOOK to the runbook binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
cd "$SOURCE_DIR" || exit 1

passed=0
failed=0
stderr_file=$(mktemp)
trap 'rm -f "$stderr_file"' EXIT

header() {  # header FILE PREFIX -> the values of the "# PREFIX: " lines of the leading comments
  awk -v p="# $2: " '!/^#/ { exit } index($0, p) == 1 { print substr($0, length(p) + 1) }' "$1"
}

for file in tests/invalid/*.yaml; do
  command=$(header "$file" command | head -n 1)
  [ -n "$command" ] || command=validate
  args=$(header "$file" args | tr '\n' ' ')
  # shellcheck disable=SC2086  # word splitting of the command and args is intended
  "$RUNBOOK" $command "$file" $args >/dev/null 2>"$stderr_file" </dev/null
  rc=$?
  problems=()
  [ "$rc" -eq 2 ] || problems+=("exit code $rc, expected 2")
  n=0
  while IFS= read -r want; do
    n=$((n + 1))
    grep -qF -- "$file:$want" "$stderr_file" || problems+=("missing: $file:$want")
  done < <(header "$file" expect)
  while IFS= read -r want; do
    n=$((n + 1))
    grep -qF -- "$want" "$stderr_file" || problems+=("missing: $want")
  done < <(header "$file" expect-in; header "$file" expect-set)
  [ "$n" -gt 0 ] || problems+=("no '# expect' header")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $file ($RUNBOOK $command $file $args)"
    printf '  %s\n' "${problems[@]}"
    echo "  stderr:"
    sed 's/^/    /' "$stderr_file"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
