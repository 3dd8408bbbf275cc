// Reading /proc from tests: processes come and go while a test looks at them.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>
#include <string>

namespace runbook::testing {

// The whole of a /proc file, or "" once its process is gone. Plain read(2): libstdc++'s filebuf
// throws from underflow when the process exits mid-read (ESRCH), whatever the stream's flags.
inline std::string ReadProcFile(const std::string& path) {
  std::string content;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) content.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return content;
}

// Exists and is not a zombie waiting to be reaped.
inline bool IsLiveProcess(pid_t pid) {
  std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] != 'Z';
}

}  // namespace runbook::testing
