#include "engine/group_watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace runbook {
namespace {

std::mutex g_start_mu;
int g_write_fd = -1;  // the engine's end of the pipe; -1 while there is no watchdog

// ---- the watchdog process: async-signal-safe calls only, no allocation

pid_t g_groups[kMaxWatchedGroups];  // 0: free slot
int g_group_count = 0;              // slots in use or freed, from the start of g_groups

void Apply(char sign, pid_t pgid) {
  if (pgid <= 0) return;
  if (sign == '+') {
    for (int i = 0; i < g_group_count; ++i) {
      if (g_groups[i] == 0) {
        g_groups[i] = pgid;
        return;
      }
    }
    if (g_group_count < kMaxWatchedGroups) g_groups[g_group_count++] = pgid;
  } else if (sign == '-') {
    for (int i = 0; i < g_group_count; ++i) {
      if (g_groups[i] == pgid) g_groups[i] = 0;
    }
  }
}

void SignalAll(int sig) {
  for (int i = 0; i < g_group_count; ++i) {
    if (g_groups[i] > 0) kill(-g_groups[i], sig);
  }
}

bool AnyAlive() {
  for (int i = 0; i < g_group_count; ++i) {
    if (g_groups[i] > 0 && kill(-g_groups[i], 0) == 0) return true;
  }
  return false;
}

[[noreturn]] void Watch(int fd) {
  char buf[512];
  char sign = 0;
  pid_t value = 0;
  for (;;) {
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the engine is gone
    for (ssize_t i = 0; i < got; ++i) {
      const char c = buf[i];
      if (c == '+' || c == '-') {
        sign = c;
        value = 0;
      } else if (c >= '0' && c <= '9') {
        value = value * 10 + (c - '0');
      } else if (c == '\n') {
        Apply(sign, value);
        sign = 0;
      }
    }
  }
  SignalAll(SIGTERM);
  for (int tick = 0; tick < 60 && AnyAlive(); ++tick) {
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  SignalAll(SIGKILL);
  _exit(0);
}

// In the forked child: signals a terminal sends ignored, only the pipe's read end kept open,
// /dev/null on 0-2 (holding the terminal open would keep a closed window's pty alive).
[[noreturn]] void BecomeWatchdog(int read_fd, int write_fd) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &ignore, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_NAME, "runbook-watch", 0, 0, 0);
  close(write_fd);
  if (read_fd > 3) close_range(3, static_cast<unsigned>(read_fd) - 1, 0);
  close_range(static_cast<unsigned>(read_fd) + 1, ~0U, 0);
  const int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    for (int fd = 0; fd <= 2; ++fd) {
      if (fd != read_fd) dup2(null_fd, fd);
    }
    if (null_fd > 2 && null_fd != read_fd) close(null_fd);
  }
  Watch(read_fd);
}

// ---- the engine's side

void Send(char sign, int pgid) {
  if (pgid <= 0) return;
  int fd;
  {
    std::lock_guard<std::mutex> lock(g_start_mu);
    fd = g_write_fd;
  }
  if (fd < 0) return;
  // One write of a few bytes: atomic on a pipe, whatever other threads write.
  const std::string line = sign + std::to_string(pgid) + "\n";
  ssize_t rc;
  do {
    rc = write(fd, line.data(), line.size());
  } while (rc < 0 && errno == EINTR);
  // A failed write means the watchdog is gone; the step runs on regardless.
}

}  // namespace

Status StartGroupWatchdog() {
  std::lock_guard<std::mutex> lock(g_start_mu);
  if (g_write_fd >= 0) return Status::Ok();
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Error(std::string("cannot start the step watchdog: pipe: ") +
                         std::strerror(errno));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Status::Error(std::string("cannot start the step watchdog: fork: ") +
                         std::strerror(err));
  }
  if (pid == 0) BecomeWatchdog(fds[0], fds[1]);
  close(fds[0]);
  g_write_fd = fds[1];
  return Status::Ok();
}

void WatchGroup(int pgid) {
  Send('+', pgid);
}

void UnwatchGroup(int pgid) {
  Send('-', pgid);
}

}  // namespace runbook
