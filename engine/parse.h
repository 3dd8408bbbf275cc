// Runbook and inventory files to the model: the structural checks of the loader.
//
// What is checked here (each problem reported once, at its place, all in one pass):
//  - YAML syntax, duplicate keys, merge keys, aliases (engine/yaml_parse.h);
//  - the shape of every field: mappings, lists, strings, booleans, integers, durations, sizes;
//  - unknown keys everywhere, with a "did you mean" suggestion or the list of valid keys;
//  - names: runbook name [a-z0-9][a-z0-9-]*, step ids [a-z0-9][a-z0-9_-]*, params and secrets
//    [A-Za-z_][A-Za-z0-9_]* (they become environment variable names), hosts and databases
//    [A-Za-z0-9_][A-Za-z0-9_-]*, env keys [A-Za-z_][A-Za-z0-9_]*;
//  - exactly one kind per step and per guard; param types and defaults that fit them;
//    secrets with exactly one of env and file; hosts with exactly one of ssh and local: true;
//  - a non-empty `steps` list; retries between 0 and 100; timeouts longer than 0s.
// Guards: one kind key plus `wait` and `on_fail`, and `host` for command and backup_fresh
// guards (beside the kind key or inside its mapping, once).
// Not checked here (engine/validate.h, engine/graph.h): whether referenced steps, hosts,
// databases, params and secrets exist, cycles, duplicate step ids, template expressions.
//
// The host "local" ({local: true}) is always present after ParseRunbook: added when the runbook
// does not define it. Defining it as anything but {local: true} is an error.
#pragma once

#include <optional>
#include <string>

#include "engine/diag.h"
#include "engine/doc.h"
#include "engine/model.h"
#include "engine/step_kind.h"

namespace runbook {

// Parses a runbook. `path` is used for locations and stored in Runbook::path. On any error
// returns nullopt with every problem found added to `diags`.
std::optional<Runbook> ParseRunbook(const std::string& path, const std::string& text,
                                    const KindRegistry& kinds, Diagnostics* diags);

// Parses an inventory: a mapping with optional `hosts`, `databases` (shapes as in a runbook) and
// `params` (name: scalar value; checked against the runbook's types by ResolveParams).
std::optional<Inventory> ParseInventory(const std::string& path, const std::string& text,
                                        Diagnostics* diags);

// Merges an inventory into a runbook: its hosts and databases replace the runbook's entries of
// the same name (keeping their position) and new names are appended. Params are not touched:
// ResolveParams reads inventories itself.
void ApplyInventory(const Inventory& inventory, Runbook* runbook);

}  // namespace runbook
