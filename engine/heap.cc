#include "engine/heap.h"

#include <malloc.h>
#include <sys/mman.h>

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
  // The blocks are consecutive when the heap had no free space of that size (it has none this
  // early): advise their span, only where it is contiguous.
  if (!held.empty()) {
    uintptr_t begin = reinterpret_cast<uintptr_t>(held.front());
    uintptr_t end = begin + kBlock;
    for (size_t i = 1; i < held.size(); ++i) {
      const uintptr_t p = reinterpret_cast<uintptr_t>(held[i]);
      if (p < end || p > end + 64) break;  // not the next block on the heap
      end = p + kBlock;
    }
    begin = (begin + kHugePage - 1) & ~(kHugePage - 1);
    end &= ~(kHugePage - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
  for (auto it = held.rbegin(); it != held.rend(); ++it) std::free(*it);
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kDefaultMmapThreshold));
}

}  // namespace runbook
