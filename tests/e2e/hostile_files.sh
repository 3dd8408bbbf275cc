#!/usr/bin/env bash
# Hostile or odd input files get one clear line and exit 2, never a hang, an abort or a core:
# runbooks, inventories, saved plans, secret files and SQL files that are FIFOs, directories,
# devices, huge, UTF-16/32, or (plans) JSON of the wrong shape.
source "$(dirname "$0")/lib/common.bash"
cd "$TEST_TMP"

cat >ok.yaml <<'YAML'
name: ok
steps:
  - id: a
    run: echo hi
YAML
mkfifo fifo
mkdir dir
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' '#' >big.yaml

# refused CODE WANT CMD...: exits CODE within 10 s, stderr's first line contains WANT, and no
# "Aborted"/core; the command never waits on a FIFO.
refused() {
  local want=$1; shift
  expect_exit 2 timeout 10 "$@"
  grep -qF -- "$want" "$TEST_TMP/last.err" || { cat "$TEST_TMP/last.err"; fail "'$want' not in stderr of: $*"; }
  ok "$* -> $want"
}

for cmd in validate plan; do
  refused "fifo: is a FIFO (named pipe), not a regular file" "$RUNBOOK" $cmd fifo
  refused "dir: is a directory, not a file" "$RUNBOOK" $cmd dir
  refused "/dev/zero: is a device, not a regular file" "$RUNBOOK" $cmd /dev/zero
  refused "big.yaml: is larger than 16 MiB" "$RUNBOOK" $cmd big.yaml
done
refused "fifo: is a FIFO" "$RUNBOOK" validate -i fifo ok.yaml
refused "/dev/zero: is a device" "$RUNBOOK" plan -i /dev/zero ok.yaml

for enc in UTF-16LE UTF-16BE UTF-32LE UTF-32BE; do
  iconv -f UTF-8 -t "$enc" ok.yaml >"$enc.yaml"
  refused "$enc.yaml:1:1: the file is $enc; runbook files must be UTF-8" "$RUNBOOK" validate "$enc.yaml"
done
# With a byte order mark (iconv's UTF-16 writes one).
iconv -f UTF-8 -t UTF-16 ok.yaml >bom.yaml
refused "bom.yaml:1:1: the file is UTF-16" "$RUNBOOK" validate bom.yaml

# Saved plans: each wrong shape names its field.
plan_file() { printf '%s\n' "$1" >p.json; }
edit_plan() {  # edit_plan PYTHON: p.json = good.json with PYTHON applied to its object p
  python3 -c "import json, sys; p = json.load(open('good.json')); $1; json.dump(p, open('p.json', 'w'))"
}
"$RUNBOOK" plan ok.yaml --out good.json >/dev/null
refused "p.json is not a plan file (not JSON)" bash -c "printf '{' >p.json; \"$RUNBOOK\" run ok.yaml --plan p.json"
plan_file '{}'; refused "p.json is not a plan file: field format is missing" "$RUNBOOK" run ok.yaml --plan p.json
plan_file '[]'; refused "the plan must be an object, not a list" "$RUNBOOK" run ok.yaml --plan p.json
edit_plan 'p["steps"] = "all"'
refused "p.json is not a plan file: steps must be a list, not a string" "$RUNBOOK" run ok.yaml --plan p.json
edit_plan 'p["steps"][0]["id"] = 5'
refused "steps[0].id must be a string, not a number" "$RUNBOOK" run ok.yaml --plan p.json
edit_plan 'del p["params"]'
refused "field params is missing" "$RUNBOOK" run ok.yaml --plan p.json
refused "fifo: is a FIFO" "$RUNBOOK" run ok.yaml --plan fifo
refused "/dev/zero: is a device" "$RUNBOOK" run ok.yaml --plan /dev/zero
expect_exit 0 "$RUNBOOK" run ok.yaml --plan good.json
ok "the untouched plan runs"

# A secret file and an SQL file that are not regular files.
cat >secret.yaml <<'YAML'
name: secret
secrets:
  token: {file: ./fifo}
steps:
  - id: a
    run: echo hi
YAML
refused "secret 'token': file ./fifo is a FIFO (named pipe), not a regular file" \
  "$RUNBOOK" plan --offline secret.yaml

echo "hostile_files: $pass_count checks passed"
