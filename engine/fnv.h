// FNV-1a 64: the hash of definitions and runbook files in journals and plans (change detection,
// not security). Kept stable: saved plans and journals compare these values across versions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace runbook {

class Fnv1a64 {
 public:
  void Update(std::string_view bytes) {
    uint64_t h = h_;
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h_ = h;
  }
  uint64_t Value() const { return h_; }
  // 16 lower-case hex digits.
  std::string Hex() const {
    std::string hex(16, '0');
    uint64_t h = h_;
    for (int i = 15; i >= 0; --i, h >>= 4) hex[i] = "0123456789abcdef"[h & 15];
    return hex;
  }

 private:
  uint64_t h_ = 1469598103934665603ULL;
};

}  // namespace runbook
