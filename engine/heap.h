// Preparing the heap for a big model: a 100k-step runbook allocates ~110 MB of small blocks
// (strings, vectors) while it is loaded.
#pragma once

#include <cstddef>

namespace runbook {

// Makes the next `bytes` of the main heap (the malloc arena of the calling thread, which must
// be the main thread) transparent-huge-page backed, so that filling it takes one page fault per
// 2 MB instead of one per 4 KB: on this project's paravirtualized VMs page faults were 10-15%
// of `validate` and `plan` on large runbooks. The memory is reserved (address space only), not
// touched: peak RSS does not grow by more than the last, partly used 2 MB page. It also stops
// malloc from returning the heap's top to the system (M_TRIM_THRESHOLD), so the reservation
// stays. Only a hint: when glibc or the kernel refuses, nothing changes but speed. Does nothing
// for `bytes` under 4 MB, or not above an earlier call's. Call before the allocations it is for.
//
// With `populate` > 0, the first `populate` bytes of the reservation are also made present on
// another thread (see PopulateInBackground): the kernel's zeroing of new pages, 10-15% of `plan`
// for 100k steps on those VMs, then happens beside the work that uses them. Those bytes count in
// the RSS whether used or not: pass what will surely be used.
void ReserveHugePageHeap(size_t bytes, size_t populate = 0);

// Makes the pages of [begin, begin + bytes) present, in address order, on a detached thread
// (MADV_POPULATE_WRITE: as if written, without touching their content, so it never races with
// the owner of the memory writing to it). Only a hint: errors are ignored.
void PopulateInBackground(void* begin, size_t bytes);

}  // namespace runbook
