// YAML text to a DocNode tree. The only unit that includes a YAML library.
//
// The library is libyaml (C, Debian libyaml-dev), used through its event API. Not yaml-cpp: on a
// 16 MB, 100k-step runbook yaml-cpp's event parser alone takes 1.7 s of CPU, libyaml 0.25 s
// (measured here); the loader's budget for 100k steps is 1.5 s in all.
//
// Beyond plain parsing it enforces what a runbook file needs and yaml-cpp does not check:
//  - duplicate mapping keys are errors, reported at the second key:
//      "duplicate key 'x' (first at 3:5)"
//  - mapping keys must be scalars; merge keys `<<` are rejected (YAML 1.1 parsers that do not
//    implement them keep them as a literal key, silently);
//  - anchors and aliases work: an alias is a copy of the anchored subtree (located where it was
//    anchored, except the copy's root, located at the alias). An alias inside the node it refers
//    to is an error, and so is expanding more than kMaxAliasNodes nodes through aliases in total
//    ("billion laughs");
//  - only one document per file; tags other than `!!str` and `!` are rejected;
//  - syntax errors become a Diagnostic at libyaml's (1-based) mark, with a hint when a tab is
//    used for indentation; nesting deeper than 1000 levels is refused. Nothing is thrown.
// Plain `~`, `null`, `Null` and `NULL` and empty values are null nodes; everything else that is
// not a mapping or a sequence is a scalar, with `quoted` telling whether it was written quoted.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/diag.h"
#include "engine/doc.h"
#include "engine/read_file.h"

namespace runbook {

inline constexpr size_t kMaxAliasNodes = 1'000'000;

// Receives the items of chosen top-level sequences as soon as each is complete, so a big list
// (a runbook's `steps`) never exists whole as a tree: the loader turns each item into the model
// and drops it. Items arrive in document order; no item arrives after a syntax or structure
// error (the parse fails then anyway).
class ItemSink {
 public:
  virtual ~ItemSink() = default;
  // Whether the items of the sequence under the top-level key `key` go to OnItem.
  virtual bool Wants(std::string_view key) const = 0;
  // The `index`-th (0-based) item of the sequence under `key`. The item is not in the tree
  // that ParseYaml returns: there that sequence is empty (unless an error stopped the handing
  // over: then the remaining items stay).
  virtual void OnItem(std::string_view key, size_t index, DocNode item) = 0;
};

// Parses `text`; `path` is used for locations only. An empty file gives a null node at 1:1.
// Syntax errors and fatal ones (recursive or exploding aliases, too deep nesting) return nullopt.
// Other errors (duplicate or merge keys, non-string keys, tags) are reported and the offending
// mapping entries left out of the tree, which is still returned so that callers can check the
// rest of the file in the same pass: check diags->ok() as well.
std::optional<DocNode> ParseYaml(const std::string& path, const std::string& text,
                                 Diagnostics* diags, ItemSink* sink = nullptr);

// The same, reading `file` from where it is as the parser goes, so that the text is never held
// whole (only to explain a syntax error). REQUIRES: file->regular().
std::optional<DocNode> ParseYaml(const std::string& path, InputFile* file, Diagnostics* diags,
                                 ItemSink* sink = nullptr);

}  // namespace runbook
