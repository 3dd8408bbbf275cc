#include "engine/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runbook {

namespace {

// What a non-regular file is, in words, for the one-line refusal.
std::string NotRegular(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory, not a file";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe), not a regular file";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device, not a regular file";
  if (S_ISSOCK(mode)) return "is a socket, not a regular file";
  return "is not a regular file";
}

std::string TooLarge() {
  return "is larger than " + std::to_string(kMaxInputBytes >> 20) + " MiB";
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return Result<std::string>::Error(std::string("cannot read: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string message = NotRegular(st.st_mode);
    ::close(fd);
    return Result<std::string>::Error(message);
  }
  if (static_cast<unsigned long long>(st.st_size) > kMaxInputBytes) {
    ::close(fd);
    return Result<std::string>::Error(TooLarge());
  }
  std::string text;
  text.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string message = std::string("cannot read: ") + std::strerror(errno);
      ::close(fd);
      return Result<std::string>::Error(message);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxInputBytes) {  // the file grew while being read
      ::close(fd);
      return Result<std::string>::Error(TooLarge());
    }
  }
  ::close(fd);
  return text;
}

}  // namespace runbook
