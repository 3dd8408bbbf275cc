// Cooperative cancellation: Ctrl-C sets a flag; long operations poll it.
//
// Signal handlers only store to the flag (async-signal-safe); whoever runs a child process or a
// query checks it and stops the work (kills the process group, PQcancel's the query).
#pragma once

#include <atomic>

namespace runbook {

class CancelToken {
 public:
  CancelToken() = default;
  explicit CancelToken(const std::atomic<bool>* flag) : flag_(flag) {}
  bool requested() const { return flag_ && flag_->load(std::memory_order_relaxed); }

 private:
  const std::atomic<bool>* flag_ = nullptr;
};

}  // namespace runbook
