#!/usr/bin/env bash
# The JSON Schemas in schemas/ against the shipped files, with ajv (tests/package.json).
#
#  1. Both schemas compile as JSON Schema 2020-12.
#  2. Every runbook and inventory under runbooks/ and examples/ is valid. Which schema a YAML
#     file gets: the one its `# yaml-language-server: $schema=...` line names; else a file with
#     a top-level `steps:` is a runbook, and one whose top-level keys are all among hosts,
#     databases and params is an inventory; any other YAML file (a CI config, a fixture) is
#     skipped and listed.
#     The same for each ```yaml block of the Markdown docs (README.md, docs/, runbooks/).
#  3. Every tests/invalid/*.yaml whose header has `# schema: reject` is rejected by the schema
#     (the inventory schema when its modeline names it, else the runbook schema): the mistakes
#     an editor can flag while typing.
# Env: SOURCE_DIR (the repository root).
set -u
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
cd "$SOURCE_DIR" || exit 1

ajv=tests/node_modules/.bin/ajv
if [ ! -x "$ajv" ]; then
  (cd tests && npm install --no-audit --no-fund --silent >/dev/null 2>&1)
fi
if [ ! -x "$ajv" ]; then
  echo "ajv is not installed: run 'npm install' in tests/ (or 'make deps')"
  exit 1
fi
# --allow-union-types: text fields are string, number or boolean, as YAML scalars are.
ajv_opts=(--spec=draft2020 --allow-union-types)

passed=0
failed=0
out=$(mktemp)
blocks=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$blocks"' EXIT

# The schema a YAML file is checked against: runbook, inventory, or nothing.
schema_of() {
  local modeline
  modeline=$(grep -m1 -o 'yaml-language-server: *\$schema=[^ ]*' "$1")
  case "$modeline" in
    *inventory.schema.json) echo inventory; return ;;
    *runbook.schema.json) echo runbook; return ;;
  esac
  if grep -q '^steps:' "$1"; then
    echo runbook
  elif grep -qE '^(hosts|databases|params):' "$1" && ! grep -qE '^[A-Za-z_][^:]*:' <(grep -vE '^(hosts|databases|params):' "$1"); then
    echo inventory
  fi
}

# check KIND EXPECT FILE...: validates the files with one ajv run (ajv starts slowly) and
# requires each to come out EXPECT (valid or invalid).
check() {
  local kind=$1 expect=$2 f
  shift 2
  [ $# -gt 0 ] || return 0
  local args=()
  for f in "$@"; do args+=(-d "$f"); done
  "$ajv" validate "${ajv_opts[@]}" --errors=text -s "schemas/$kind.schema.json" "${args[@]}" >"$out" 2>&1
  for f in "$@"; do
    if grep -qxF -- "$f $expect" "$out"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "FAIL $f: expected $expect against the $kind schema"
      awk -v f="$f" '$0 == f " invalid" { getline; print "    " $0 }' "$out"
    fi
  done
}

for kind in runbook inventory; do
  if "$ajv" compile "${ajv_opts[@]}" -s "schemas/$kind.schema.json" >"$out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL schemas/$kind.schema.json does not compile"
    sed 's/^/    /' "$out"
  fi
done

# The shipped YAML files, and the yaml blocks of the docs, each in a file named after its
# Markdown file.
while IFS= read -r md; do
  awk -v dir="$blocks" -v name="$(echo "${md#./}" | tr / _)" '
    /^```yaml/ { n++; file = dir "/" name "." n ".yaml"; next }
    /^```/ { file = ""; next }
    file != "" { print > file }' "$md"
done < <(find . -path ./tests/node_modules -prune -o -path './build*' -prune -o -name '*.md' -print | sort)
runbooks=()
inventories=()
skipped=()
while IFS= read -r file; do
  case $(schema_of "$file") in
    runbook) runbooks+=("$file") ;;
    inventory) inventories+=("$file") ;;
    *) skipped+=("$file") ;;
  esac
done < <(find runbooks examples -type f \( -name '*.yaml' -o -name '*.yml' \) 2>/dev/null | sort; \
         find "$blocks" -name '*.yaml' | sort)
check runbook valid "${runbooks[@]}"
check inventory valid "${inventories[@]}"
if [ ${#runbooks[@]} -eq 0 ]; then
  echo "FAIL no runbook found under runbooks/ and examples/"
  failed=$((failed + 1))
fi

# The corpus files marked "# schema: reject".
rejects=()
inventory_rejects=()
for file in tests/invalid/*.yaml; do
  awk '!/^#/ { exit } /^# schema: reject/ { found = 1 } END { exit !found }' "$file" || continue
  if grep -q 'yaml-language-server: *\$schema=[^ ]*inventory.schema.json' "$file"; then
    inventory_rejects+=("$file")
  else
    rejects+=("$file")
  fi
done
check runbook invalid "${rejects[@]}"
check inventory invalid "${inventory_rejects[@]}"
if [ $((${#rejects[@]} + ${#inventory_rejects[@]})) -eq 0 ]; then
  echo "FAIL no tests/invalid/*.yaml is marked '# schema: reject'"
  failed=$((failed + 1))
fi

echo "checked ${#runbooks[@]} runbooks, ${#inventories[@]} inventories (files and doc blocks)," \
  "$((${#rejects[@]} + ${#inventory_rejects[@]})) schema-reject corpus files"
[ ${#skipped[@]} -eq 0 ] || printf 'skipped (not a runbook or inventory): %s\n' "${skipped[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
