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
trap 'rm -f "$out"' EXIT

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  sed 's/^/    /' "$out"
}

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

for kind in runbook inventory; do
  if "$ajv" compile "${ajv_opts[@]}" -s "schemas/$kind.schema.json" >"$out" 2>&1; then
    pass
  else
    fail "schemas/$kind.schema.json does not compile"
  fi
done

skipped=()
checked=0
while IFS= read -r file; do
  kind=$(schema_of "$file")
  if [ -z "$kind" ]; then
    skipped+=("$file")
    continue
  fi
  checked=$((checked + 1))
  if "$ajv" validate "${ajv_opts[@]}" --errors=text -s "schemas/$kind.schema.json" -d "$file" >"$out" 2>&1; then
    pass
  else
    fail "$file is not a valid $kind"
  fi
done < <(find runbooks examples -type f \( -name '*.yaml' -o -name '*.yml' \) 2>/dev/null | sort)
# YAML blocks of the docs, each in a file of its own.
blocks=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$blocks"' EXIT
while IFS= read -r md; do
  awk -v dir="$blocks" -v name="$(echo "${md#./}" | tr / _)" '
    /^```yaml/ { n++; file = dir "/" name "." n ".yaml"; next }
    /^```/ { file = ""; next }
    file != "" { print > file }' "$md"
done < <(find . -path ./tests/node_modules -prune -o -path './build*' -prune -o -name '*.md' -print | sort)
for file in "$blocks"/*.yaml; do
  [ -e "$file" ] || continue
  kind=$(schema_of "$file")
  label="the yaml block ${file##*/}"
  if [ -z "$kind" ]; then
    skipped+=("$label")
    continue
  fi
  checked=$((checked + 1))
  if "$ajv" validate "${ajv_opts[@]}" --errors=text -s "schemas/$kind.schema.json" -d "$file" >"$out" 2>&1; then
    pass
  else
    fail "$label is not a valid $kind"
  fi
done

if [ "$checked" -eq 0 ]; then
  echo "FAIL no runbook or inventory found under runbooks/ and examples/"
  failed=$((failed + 1))
fi

rejects=0
for file in tests/invalid/*.yaml; do
  awk '!/^#/ { exit } /^# schema: reject/ { found = 1 } END { exit !found }' "$file" || continue
  rejects=$((rejects + 1))
  kind=runbook
  grep -q 'yaml-language-server: *\$schema=[^ ]*inventory.schema.json' "$file" && kind=inventory
  "$ajv" validate "${ajv_opts[@]}" --errors=text -s "schemas/$kind.schema.json" -d "$file" >"$out" 2>&1
  if grep -q "^$file invalid" "$out"; then
    pass
  else
    fail "$file was not rejected by the $kind schema"
  fi
done

if [ "$rejects" -eq 0 ]; then
  echo "FAIL no tests/invalid/*.yaml is marked '# schema: reject'"
  failed=$((failed + 1))
fi

echo "checked $checked shipped files and doc blocks, $rejects schema-reject corpus files"
[ ${#skipped[@]} -eq 0 ] || printf 'skipped (not a runbook or inventory): %s\n' "${skipped[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
