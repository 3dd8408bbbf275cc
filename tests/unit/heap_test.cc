#include "engine/heap.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace runbook {
namespace {

// The size in kB of the mappings advised for transparent huge pages ("hg" in VmFlags).
long HugePageAdvisedKb() {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  long size_kb = 0, total = 0;
  while (std::getline(smaps, line)) {
    if (line.rfind("Size:", 0) == 0) {
      std::istringstream(line.substr(5)) >> size_kb;
    } else if (line.rfind("VmFlags:", 0) == 0 && (line + " ").find(" hg ") != std::string::npos) {
      total += size_kb;
    }
  }
  return total;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kGlibcMalloc = false;  // AddressSanitizer's allocator replaces glibc's
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kGlibcMalloc = false;
#else
constexpr bool kGlibcMalloc = true;
#endif
#else
constexpr bool kGlibcMalloc = true;
#endif

TEST(HeapTest, ReservesHeapAdvisedForHugePagesAndMallocGoesOn) {
  if (!kGlibcMalloc) GTEST_SKIP() << "the heap is not glibc's";
  const long before = HugePageAdvisedKb();
  ReserveHugePageHeap(64 << 20);
  // 64 MB of heap, less what aligning to 2 MB pages leaves out at the ends of each run of
  // blocks (the heap of this test process has free space from earlier tests).
  EXPECT_GE(HugePageAdvisedKb() - before, 48 << 10);
  // The reservation is free heap: allocations of any size still work, and small ones are cut
  // from it.
  for (size_t size : {16, 4000, 1 << 20, 40 << 20}) {
    char* p = static_cast<char*>(std::malloc(size));
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, size);
    std::free(p);
  }
  ReserveHugePageHeap(1 << 20);   // below the minimum, and smaller than before: nothing to do
  ReserveHugePageHeap(64 << 20);  // not above the earlier call: nothing to do
}

// The pages become present (mincore) without being written: their content stays zero.
TEST(HeapTest, PopulateInBackgroundMakesPagesPresentUntouched) {
  constexpr size_t kBytes = 8 << 20;
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // MADV_POPULATE_WRITE is Linux 5.14+; before, PopulateInBackground is only a hint that does
  // nothing. Probed on a page of a separate mapping, so `p` stays untouched.
  void* probe = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  const bool supported = madvise(probe, page, MADV_POPULATE_WRITE) == 0;
  munmap(probe, page);
  if (!supported) {
    munmap(p, kBytes);
    GTEST_SKIP() << "this kernel has no MADV_POPULATE_WRITE";
  }
  std::vector<unsigned char> resident(kBytes / page);
  auto present = [&] {
    if (mincore(p, kBytes, resident.data()) != 0) return size_t{0};
    return static_cast<size_t>(std::count_if(resident.begin(), resident.end(),
                                             [](unsigned char r) { return (r & 1) != 0; }));
  };
  EXPECT_EQ(present(), 0u);
  PopulateInBackground(p, kBytes);
  for (int i = 0; i < 500 && present() < resident.size(); ++i) usleep(10'000);
  EXPECT_EQ(present(), resident.size());
  const char* bytes = static_cast<const char*>(p);
  EXPECT_EQ(std::count(bytes, bytes + kBytes, 0), static_cast<long>(kBytes));
  munmap(p, kBytes);
}

}  // namespace
}  // namespace runbook
