#include "engine/log_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/fd.h"

namespace runbook {

Result<std::string> ReadLogFrom(const std::string& path, int64_t offset, size_t max) {
  using R = Result<std::string>;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK));
  if (!fd.open()) {
    if (errno == ENOENT) return std::string();
    return R::Error(path + ": " + ErrnoText(errno));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return R::Error(path + ": " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return R::Error(path + " is not a regular file");
  if (st.st_size <= offset) return std::string();
  std::string bytes(std::min<size_t>(max, static_cast<size_t>(st.st_size - offset)), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::pread(fd.get(), bytes.data() + got, bytes.size() - got,
                              static_cast<off_t>(offset + static_cast<int64_t>(got)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return R::Error(path + ": " + ErrnoText(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

size_t WholeLines(std::string_view bytes) {
  const size_t nl = bytes.rfind('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

}  // namespace runbook
