#!/usr/bin/env bash
# The JSON Schemas (schemas/runbook.schema.json, schemas/inventory.schema.json) and
# `runbook validate` agree, file by file (tests/e2e/lib/schema_agree.mjs does the work):
#  - every file of the invalid-runbook corpus (tests/invalid, its inventories with the corpus
#    runbook that names them);
#  - the shipped runbooks (runbooks/), the examples (examples/), the unit tests' example files
#    (tests/unit/testdata), and each ```yaml block of README.md, docs/*.md and runbooks/*.md (a
#    fragment inside the smallest runbook around it; one that fits none is listed as skipped);
#  - probes: each field written in each of the spellings that YAML 1.2 (editors) and the
#    validator may read differently (tests/e2e/lib/schema_probes.mjs).
# Both accept, or both refuse; the shipped files and the docs' examples both accept (a fragment
# may name what the rest of its runbook would declare). A file that only the schema refuses
# always fails the test: an editor must not flag a runbook that runs. A file that only the
# validator refuses passes when each of its errors is one of the RULES below: what a schema
# cannot know, listed by name; never a corpus file whose header says "# schema: reject" (a
# mistake an editor flags while typing).
# Plans: `runbook plan --format json` of the shipped runbooks (offline) and of a runbook whose
# guards are evaluated (also with --only) validate against schemas/plan.schema.json (tests/e2e/lib/plan_schema.mjs),
# and typed params stay typed (an integer a number, a boolean true or false).
# Env: RUNBOOK (the binary), SOURCE_DIR (the repository root).
set -u
: "${RUNBOOK:?set RUNBOOK to the runbook binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
cd "$SOURCE_DIR" || exit 1
# shellcheck source=tests/e2e/lib/node_deps.bash
source tests/e2e/lib/node_deps.bash
node_deps_or_fail || exit 1

rules=$(mktemp)
plans=$(mktemp -d)
trap 'rm -rf "$rules" "$plans"' EXIT
# CASE_GLOB | MESSAGE_REGEX | WHY. CASE_GLOB matches the case's name (a path, "FILE#yamlN" for a
# doc block, "probe:FIELD=SPELLING"); MESSAGE_REGEX one error line of `runbook validate`.
cat >"$rules" <<'EOF'
# Cross references: names declared elsewhere in the runbook or in an inventory, the step graph.
* | ^unknown (host|database|param|secret) ' | names declared elsewhere in the runbook or an inventory
* | needs unknown step|needs itself|^dependency cycle|a finally step|which comes after it | the step graph
* | ^match (step|names) | a copy_rows match names an earlier copy_rows step of the graph
* | uses steps\..*\.outcome but does not need | the step graph
* | ^downtime names unknown step|^downtime ends with | the step graph
* | ^duplicate step id | ids are unique across two lists
* | ^'wait' needs a duration, and param | the param named must be a duration param
tests/invalid/inventories/bad-param.yaml | value 'lots' does not fit | an inventory's value fits the runbook's param type
# The text inside values: ${{ }} expressions, conditions, SQL.
* | ^(unknown name|unknown field|unexpected) .* in |'\$\{\{' without a closing|^a condition is one|is inside an SQL string | expressions and conditions are parsed by the validator
* | ^(secret|environment variable) '.*' in (a (run|command guard's) command line|copy_rows) | where a secret goes is judged on the parsed expression
# YAML 1.2 reads these spellings as numbers or booleans: the schema sees the value, not how it
# was written, and the validator refuses the spelling.
probe:*=1.0 | .* | 1.0 is the number 1 to the schema
probe:*=1e3 | .* | 1e3 is the number 1000 to the schema
probe:*=0x1f | .* | 0x1f is the number 31 to the schema
probe:*=0o17 | .* | 0o17 is the number 15 to the schema
probe:*=+1 | .* | +1 is the number 1 to the schema
* | has a leading zero | 010 is the number 10 to the schema (YAML 1.2), octal 8 to YAML 1.1
* | ^a NUL character | a schema sees the decoded string; the NUL is refused because no argv, environment or libpq value can hold it
probe:*=TRUE | ^invalid (runbook name|lock name|step id) | TRUE is the boolean true to the schema, capitals unseen
probe:*=False | ^invalid (runbook name|lock name|step id) | False is the boolean false to the schema, capitals unseen
EOF

# --- plans -----------------------------------------------------------------------------------
plan_failed=0
export RUNBOOK_STATE_DIR="$plans/state" JANE_PROD_DB_PASSWORD=pw-prod JANE_DEV_DB_PASSWORD=pw-dev
for rb in runbooks/*.yaml; do
  "$RUNBOOK" plan "$rb" --offline --format json >"$plans/$(basename "$rb" .yaml).json" ||
    { echo "FAIL plan of $rb"; plan_failed=1; }
done
cat >"$plans/typed.yaml" <<'EOF'
name: schemas-typed-plan
params:
  count: {type: integer, default: 3}
  ratio: {type: number, default: 1.5}
  go: {type: boolean, default: true}
  pause: {type: duration, default: 5m}
  who: {type: string, default: "42"}
downtime: {from: a, to: b}
steps:
  - id: a
    run: echo "$COUNT"
    env: {COUNT: "${{ params.count }}"}
    confirm: Go on?
    guards:
      - command: "true"
    done_when:
      - command: "false"
  - id: b
    needs: [a]
    if: ${{ params.go }}
    run: [echo, "${{ params.who }}"]
    guards:
      - command: "false"
        wait: ${{ params.pause }}
finally:
  - {id: c, manual: Look.}
EOF
"$RUNBOOK" plan "$plans/typed.yaml" --format json >"$plans/typed.json" ||
  { echo "FAIL plan of typed.yaml"; plan_failed=1; }
# A choice of steps: the selection, steps not chosen, a need left out, the window partly chosen.
"$RUNBOOK" plan "$plans/typed.yaml" --only b --format json >"$plans/typed-only.json" ||
  { echo "FAIL plan --only b of typed.yaml"; plan_failed=1; }
if jq -e '.params == {count: 3, ratio: 1.5, go: true, pause: "5m", who: "42"}' \
  "$plans/typed.json" >/dev/null; then
  echo "ok: plan params keep their types"
else
  echo "FAIL plan params: $(jq -c .params "$plans/typed.json")"
  plan_failed=1
fi
node tests/e2e/lib/plan_schema.mjs "$plans"/*.json || plan_failed=1

node tests/e2e/lib/schema_agree.mjs "$rules" && [ "$plan_failed" = 0 ]
