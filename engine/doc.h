// A small YAML document tree, the loader's view of a runbook file before it becomes a model.
//
// engine/yaml_parse.h builds it (the only place that sees the YAML library); engine/reader.h and
// engine/parse.h decode it. Every node carries its 1-based source location. A node is one of:
// null (an empty value, `~` or plain `null`), a scalar (with whether it was written quoted, so
// `'yes'` and `"500"` can be told apart from plain yes and 500), a mapping (keys and values in
// document order; keys are always scalars and never repeat) or a sequence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"

namespace runbook {

struct DocNode {
  enum class Kind : uint8_t { kNull, kScalar, kMap, kSeq };

  Kind kind = Kind::kNull;
  bool quoted = false;  // scalars only: written with ' or " (or a block scalar | >, or !!str)
  // Scalars only: the column of scalar[0] when `scalar` is written verbatim on the line of
  // `loc` (a one-line plain scalar, or a quoted one without escapes), else 0. Lets errors
  // inside a value point at their exact column (Text::raw_col).
  int raw_col = 0;
  Location loc;        // where the node starts
  std::string scalar;  // scalars only: the value as YAML decoded it
  // Sequences: the items. Mappings: key, value, key, value, ... (keys are scalar nodes).
  std::vector<DocNode> children;

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsMap() const { return kind == Kind::kMap; }
  bool IsSeq() const { return kind == Kind::kSeq; }

  // Mappings: number of entries and the i-th key and value.
  size_t MapSize() const { return children.size() / 2; }
  const DocNode& Key(size_t i) const { return children[2 * i]; }
  const DocNode& Value(size_t i) const { return children[2 * i + 1]; }
  DocNode& Value(size_t i) { return children[2 * i + 1]; }
  // Mappings: the value for `key`, or nullptr. Linear: runbook mappings are small.
  const DocNode* Find(std::string_view key) const;

  // "null", "a string", "a mapping", "a sequence": for "expected X, got Y" messages.
  const char* KindName() const;
  // Number of nodes in this subtree, this one included.
  size_t CountNodes() const;
};

}  // namespace runbook
