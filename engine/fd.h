// Owned file descriptors and close-on-exec pipes, for the process runner (engine/process.cc).
#pragma once

#include <string>
#include <utility>

#include "engine/diag.h"

namespace runbook {

// Closes the descriptor it owns when destroyed or reset.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// strerror's text for `err`, thread-safe.
std::string ErrnoText(int err);

// A close-on-exec pipe (a child gets its end through a dup2).
Status MakePipe(Pipe* p);

}  // namespace runbook
