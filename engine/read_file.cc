#include "engine/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace runbook {

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool InputFile::Open(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return false;
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    regular_ = S_ISREG(st.st_mode);
    size_hint_ = st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  }
  return true;
}

size_t InputFile::Read(char* buffer, size_t size) {
  while (true) {
    const ssize_t n = ::read(fd_, buffer, size);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
}

std::string InputFile::ReadRest() {
  std::string text;
  // One byte more than the size leaves room for the read that sees the end.
  text.resize(size_hint_ > 0 ? size_hint_ + 1 : 4096);
  size_t used = 0;
  while (true) {
    if (used == text.size()) text.resize(2 * used);
    const size_t n = Read(text.data() + used, text.size() - used);
    if (n == 0) break;
    used += n;
  }
  text.resize(used);
  return text;
}

bool InputFile::Rewind() {
  return ::lseek(fd_, 0, SEEK_SET) == 0;
}

bool ReadFile(const std::string& path, std::string* text) {
  InputFile file;
  if (!file.Open(path)) return false;
  *text = file.ReadRest();
  return true;
}

}  // namespace runbook
