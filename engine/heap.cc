#include "engine/heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

namespace runbook {

void PopulateInBackground(void* begin, size_t bytes) {
  if (bytes == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t from = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  const uintptr_t to = reinterpret_cast<uintptr_t>(begin) + bytes;
  std::thread([from, to] {
    // A huge page at a time, so that the owner, filling the memory from its start, soon finds
    // what it reaches present.
    constexpr uintptr_t kStep = 2 << 20;
    for (uintptr_t at = from; at < to; at += kStep) {
      const size_t len = std::min<uintptr_t>(kStep, to - at);
      if (madvise(reinterpret_cast<void*>(at), len, MADV_POPULATE_WRITE) != 0) return;
    }
  }).detach();
}

void ReserveHugePageHeap(size_t bytes, size_t populate) {
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
    if (populate > 0) {
      const size_t here = std::min<size_t>(populate, end - begin);
      PopulateInBackground(reinterpret_cast<void*>(begin), here);
      populate -= here;
    }
  }
  for (auto it = held.rbegin(); it != held.rend(); ++it) std::free(*it);
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kDefaultMmapThreshold));
}

}  // namespace runbook
