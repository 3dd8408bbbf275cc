#include "engine/heap.h"

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace runbook {

void ReserveHugePageHeap(size_t bytes) {
  constexpr size_t kMin = 4 << 20;
  // glibc serves blocks below M_MMAP_THRESHOLD from the brk heap, and refuses thresholds above
  // 32 MB: the reservation is made of blocks under that.
  constexpr size_t kBlock = 16 << 20;
  constexpr uintptr_t kHugePage = 2 << 20;
  constexpr size_t kDefaultMmapThreshold = 128 << 10;  // glibc's initial value
  static size_t reserved = 0;  // by earlier calls: the top chunk is advised already
  if (bytes < kMin || bytes <= reserved) return;
  reserved = bytes;
  const size_t blocks = (bytes + kBlock - 1) / kBlock;
  // Freed, the blocks become the heap's top chunk, which later small allocations are cut from;
  // the trim threshold keeps free() from giving it back to the system.
  if (mallopt(M_TRIM_THRESHOLD, static_cast<int>(blocks * kBlock + kBlock)) == 0) return;
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kBlock + 4096)) == 0) return;
  std::vector<void*> held;
  held.reserve(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    void* p = std::malloc(kBlock);
    if (!p) break;
    held.push_back(p);
  }
  // Each run of consecutive blocks (all of them, on a heap with no free space of that size) is
  // advised whole, in 2 MB pages.
  std::vector<uintptr_t> starts;
  for (void* p : held) starts.push_back(reinterpret_cast<uintptr_t>(p));
  std::sort(starts.begin(), starts.end());
  auto advise = [](uintptr_t begin, uintptr_t end) {
    begin = (begin + kHugePage - 1) & ~(kHugePage - 1);
    end &= ~(kHugePage - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  };
  for (size_t i = 0; i < starts.size();) {
    const uintptr_t begin = starts[i];
    uintptr_t end = begin + kBlock;
    // The next block starts after this one's end and the allocator's chunk header.
    for (++i; i < starts.size() && starts[i] >= end && starts[i] <= end + 64; ++i) {
      end = starts[i] + kBlock;
    }
    advise(begin, end);
  }
  for (auto it = held.rbegin(); it != held.rend(); ++it) std::free(*it);
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kDefaultMmapThreshold));
}

}  // namespace runbook
