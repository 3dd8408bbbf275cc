// Names to small integers, for the step ids of big runbooks.
//
// Open addressing with each name's hash kept beside its value, over string_views of names owned
// elsewhere: a lookup rarely touches the (large, scattered) objects that own the names. A
// 100k-step runbook spent most of BuildGraph and a tenth of validation in the bucket chains of
// std::unordered_map<std::string, ...>.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace runbook {

class IdIndex {
 public:
  // `expected`: about how many names will be added (the table grows past it anyway).
  explicit IdIndex(size_t expected = 0);

  // Adds `name` -> `value` (>= 0) unless `name` is there already. Returns the value `name` had
  // before, or -1 when it was added. `name` must outlive the index.
  int32_t Insert(std::string_view name, int32_t value);
  // The value of `name`, or -1.
  int32_t Find(std::string_view name) const;

 private:
  struct Slot {
    std::string_view name;
    uint32_t hash = 0;
    int32_t value = -1;  // -1: empty
  };
  static uint32_t Hash(std::string_view name);
  // The slot holding `name`, or the empty slot where it would go.
  size_t Probe(std::string_view name, uint32_t hash) const;
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace runbook
