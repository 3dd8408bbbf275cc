#include "engine/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

namespace runbook {

void Fd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string ErrnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

Status MakePipe(Pipe* p) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Error("pipe: " + ErrnoText(errno));
  p->read.reset(fds[0]);
  p->write.reset(fds[1]);
  return Status::Ok();
}

}  // namespace runbook
