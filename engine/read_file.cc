#include "engine/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace runbook {

bool ReadFile(const std::string& path, std::string* text) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  // The size is a hint only: pipes and /proc files report 0, and files may grow meanwhile. One
  // byte more than the size leaves room for the read that sees the end.
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size > 0;
  text->resize(sized ? static_cast<size_t>(st.st_size) + 1 : 4096);
  size_t used = 0;
  while (true) {
    if (used == text->size()) text->resize(2 * used);
    const ssize_t n = ::read(fd, text->data() + used, text->size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  text->resize(used);
  ::close(fd);
  return true;
}

}  // namespace runbook
