#include "engine/doc.h"

namespace runbook {

const DocNode* DocNode::Find(std::string_view key) const {
  if (kind != Kind::kMap) return nullptr;
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    if (children[i].scalar == key) return &children[i + 1];
  }
  return nullptr;
}

const char* DocNode::KindName() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kScalar:
      return "a string";
    case Kind::kMap:
      return "a mapping";
    case Kind::kSeq:
      return "a sequence";
  }
  return "?";
}

size_t DocNode::CountNodes() const {
  size_t n = 1;
  for (const DocNode& c : children) n += c.CountNodes();
  return n;
}

}  // namespace runbook
