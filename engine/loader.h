// Loading a runbook: YAML text to a validated model, with inventories and --set values applied.
//
// This is the front door of the engine. Every problem found in the runbook, its inventories or
// the --set values is reported as a Diagnostic with FILE:LINE:COL, all of them in one pass.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/graph.h"
#include "engine/model.h"
#include "engine/step_kind.h"

namespace runbook {

// Final param values by name, in canonical text form (integers without leading zeros, booleans as
// "true"/"false", durations as written). Secrets are never in here.
using ParamValues = std::map<std::string, std::string>;

enum class RequireParams { kNo, kYes };  // kYes at plan and run: a param without value is an error

struct LoadOptions {
  const KindRegistry* kinds = nullptr;   // the step and guard kinds (steps/registry.h); required
  std::vector<std::string> inventories;  // -i FILE, in order; later wins
  std::vector<std::pair<std::string, std::string>> sets;  // --set NAME=VALUE, in order
  RequireParams require_params = RequireParams::kYes;
};

struct LoadedRunbook {
  Runbook runbook;  // inventories already merged
  ParamValues params;
  Graph graph;  // of runbook.steps, as BuildGraph makes it (validation did)
};

// Loads, merges and validates. On any error returns nullopt and fills `diags` (never empty then).
std::optional<LoadedRunbook> LoadRunbook(const std::string& path, const LoadOptions& options,
                                         Diagnostics* diags);

// Same, from text already in memory (tests, fuzzing). `path` is used for locations only.
std::optional<LoadedRunbook> LoadRunbookFromString(const std::string& path, const std::string& text,
                                                   const LoadOptions& options, Diagnostics* diags);

}  // namespace runbook
