// YAML text to a DocNode tree. The only unit that includes yaml-cpp.
//
// Beyond plain parsing it enforces what a runbook file needs and yaml-cpp does not check:
//  - duplicate mapping keys are errors, reported at the second key:
//      "duplicate key 'x' (first at 3:5)"
//  - mapping keys must be scalars; merge keys `<<` are rejected (yaml-cpp would keep them as a
//    literal key, silently);
//  - anchors and aliases work: an alias is a copy of the anchored subtree (located where it was
//    anchored, except the copy's root, located at the alias). An alias inside the node it refers
//    to is an error, and so is expanding more than kMaxAliasNodes nodes through aliases in total
//    ("billion laughs");
//  - only one document per file; tags other than `!!str` and `!` are rejected;
//  - every yaml-cpp exception becomes a Diagnostic at its (1-based) mark, with a hint when a tab
//    is used for indentation. Nothing is thrown out of ParseYaml.
// Plain `~`, `null`, `Null` and `NULL` and empty values are null nodes; everything else that is
// not a mapping or a sequence is a scalar, with `quoted` telling whether it was written quoted.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "engine/diag.h"
#include "engine/doc.h"

namespace runbook {

inline constexpr size_t kMaxAliasNodes = 1'000'000;

// Parses `text`; `path` is used for locations only. An empty file gives a null node at 1:1.
// On any error returns nullopt with at least one error added to `diags`.
std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags);

}  // namespace runbook
