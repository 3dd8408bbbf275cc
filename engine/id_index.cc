#include "engine/id_index.h"

#include <functional>

namespace runbook {

IdIndex::IdIndex(size_t expected) {
  size_t capacity = 16;
  while (capacity < 2 * expected) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
}

uint32_t IdIndex::Hash(std::string_view name) {
  return static_cast<uint32_t>(std::hash<std::string_view>()(name));
}

size_t IdIndex::Probe(std::string_view name, uint32_t hash) const {
  for (size_t at = hash & mask_;; at = (at + 1) & mask_) {
    const Slot& s = slots_[at];
    if (s.value < 0 || (s.hash == hash && s.name == name)) return at;
  }
}

void IdIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(2 * old.size(), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.value >= 0) slots_[Probe(s.name, s.hash)] = s;
  }
}

int32_t IdIndex::Insert(std::string_view name, int32_t value) {
  if (2 * (size_ + 1) > slots_.size()) Grow();  // at most half full: probes stay short
  const uint32_t hash = Hash(name);
  Slot& s = slots_[Probe(name, hash)];
  if (s.value >= 0) return s.value;
  s = Slot{name, hash, value};
  ++size_;
  return -1;
}

int32_t IdIndex::Find(std::string_view name) const {
  return slots_[Probe(name, Hash(name))].value;
}

}  // namespace runbook
