#!/usr/bin/env bash
# What an editor shows with the schemas, checked with the real yaml-language-server (npm, from
# tests/package.json) driven over LSP by tests/e2e/lib/schema_editor.mjs:
#  1. hover: each key of tests/e2e/lib/every_key.{runbook,inventory}.yaml (which use every key of
#     their schema, and the test checks that they do) shows that key's own description;
#  2. diagnostics: the shipped runbooks and those two files get none; common mistakes get the
#     schema's sentences (patternErrorMessage, errorMessage), never the server's generic "does not
#     match the pattern" or "Matches multiple schemas";
#  3. completion: completing a key inserts the keys its value needs (a step: an id and a kind),
#     and an empty item of steps or guards offers a whole item of each kind;
#  4. inventories: each schema has a stable $id naming its file.
# Env: SOURCE_DIR (the repository root).
set -u
: "${SOURCE_DIR:?set SOURCE_DIR to the repository root}"
cd "$SOURCE_DIR" || exit 1
# shellcheck source=tests/e2e/lib/node_deps.bash
source tests/e2e/lib/node_deps.bash
node_deps_or_fail || exit 1
node tests/e2e/lib/schema_editor.mjs
