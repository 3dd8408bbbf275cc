// YAML text to a DocNode tree. The only unit that includes a YAML library.
//
// The library is yaml-cpp, used through its event-handler API rather than YAML::Node: the events
// carry what a runbook's error messages need and a Node does not keep (each node's mark, whether
// a scalar was written quoted), and they let the checks below stop the parse where they fail.
//
// Beyond plain parsing it enforces what a runbook file needs and yaml-cpp does not check:
//  - the text is UTF-8 without control characters (yaml-cpp lets both through);
//  - duplicate mapping keys are errors, reported at the second key:
//      "duplicate key 'x' (first at 3:5)"
//  - mapping keys must be scalars; merge keys `<<` are rejected (yaml-cpp does not implement
//    them and would keep a literal key `<<`, silently);
//  - anchors and aliases work: an alias is a copy of the anchored subtree (located where it was
//    anchored, except the copy's root, located at the alias). An alias inside the node it refers
//    to is an error, and so is expanding more than kMaxAliasNodes nodes through aliases in total
//    ("billion laughs");
//  - only one document per file; tags other than `!!str` and `!` are rejected;
//  - syntax errors become a Diagnostic at the parser's mark, with a hint when a tab is used for
//    indentation; nesting deeper than kMaxDepth levels is refused. Nothing is thrown.
// Locations are 1-based, columns counted in characters (yaml-cpp counts bytes).
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
inline constexpr size_t kMaxDepth = 1000;

// Parses `text`; `path` is used for locations only. An empty file gives a null node at 1:1.
// Syntax errors and fatal ones (recursive or exploding aliases, too deep nesting) return nullopt.
// Other errors (duplicate or merge keys, non-string keys, tags) are reported and the offending
// mapping entries left out of the tree, which is still returned so that callers can check the
// rest of the file in the same pass: check diags->ok() as well.
std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags);

}  // namespace runbook
