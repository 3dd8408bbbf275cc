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
void ReserveHugePageHeap(size_t bytes);

}  // namespace runbook
