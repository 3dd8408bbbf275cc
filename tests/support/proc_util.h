// Reading /proc from tests: processes come and go while a test looks at them.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>
#include <cstdio>
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

// Some process of group `pgid` exists and is not a zombie. Zombies are left out: whether they
// are reaped promptly depends on the machine's init (the engine's children are reparented to it).
inline bool GroupHasLiveMember(pid_t pgid) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return false;
  bool live = false;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const std::string stat = ReadProcFile(std::string("/proc/") + e->d_name + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos || stat.size() <= paren + 2) continue;
    // After ")": " STATE PPID PGRP ..."
    char state = 0;
    int ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + paren + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
        pgrp == pgid && state != 'Z') {
      live = true;
      break;
    }
  }
  ::closedir(proc);
  return live;
}

}  // namespace runbook::testing
