#include "engine/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/state_dir.h"

namespace runbook {
namespace {

using nlohmann::json;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// A lock file holds one short JSON line: more is not ours, and is not read.
constexpr size_t kMaxLockBytes = 64 * 1024;

std::string ReadFromStart(int fd) {
  std::string data;
  char buf[4096];
  off_t off = 0;
  while (data.size() < kMaxLockBytes) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return data;
}

// The holder a lock file describes; nullopt when it is empty (released cleanly, or the holder had
// not written it yet). Unreadable content yields an empty holder rather than an error: the file
// only ever informs the message.
std::optional<LockHolder> ParseHolder(const std::string& data) {
  if (data.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  LockHolder h;
  json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return h;
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) h.pid = it->get<int>();
  h.host = str("host");
  h.boot_id = str("boot_id");
  h.run_id = str("run_id");
  h.started = str("started");
  return h;
}

std::string ReadBootId() {
  int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string id = ReadFromStart(fd);
  close(fd);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

}  // namespace

std::string LockHolder::Describe() const {
  std::string out = pid > 0 ? "pid " + std::to_string(pid) : "an unknown process";
  if (!host.empty()) out += " on host " + host;
  std::string details;
  if (!run_id.empty()) details = "run " + run_id;
  if (!started.empty())
    details += (details.empty() ? "" : ", ") + std::string("started ") + started;
  if (!details.empty()) out += " (" + details + ")";
  return out;
}

LockHolder ThisProcess() {
  LockHolder me;
  me.pid = static_cast<int>(getpid());
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) me.host = host;
  me.boot_id = ReadBootId();
  return me;
}

RunLock::~RunLock() {
  // Empty the file before unlocking: content left in a lock file that can be taken means its
  // holder died, and the next run reports that.
  if (ftruncate(fd_, 0) != 0) {
    // Nothing to do: the next holder will report a stale lock, which is harmless.
  }
  close(fd_);
}

Status RunLock::SetHolder(const LockHolder& holder) {
  json content{{"pid", holder.pid},
               {"host", holder.host},
               {"boot_id", holder.boot_id},
               {"run_id", holder.run_id},
               {"started", holder.started}};
  std::string text = content.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  // Informational only, so not fsynced: after power loss the lock is free anyway.
  if (ftruncate(fd_, 0) != 0 ||
      pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Status::Error(Errno("cannot write lock file", path_));
  }
  return Status::Ok();
}

Result<std::optional<LockHolder>> ProbeRunLock(const std::string& path) {
  using R = Result<std::optional<LockHolder>>;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<LockHolder>();
    return R::Error(Errno("cannot open lock file", path));
  }
  int rc;
  do {
    rc = flock(fd, LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  std::optional<LockHolder> holder;
  if (rc != 0) {
    if (errno != EWOULDBLOCK) {
      const std::string err = Errno("cannot probe lock", path);
      close(fd);
      return R::Error(err);
    }
    holder = ParseHolder(ReadFromStart(fd)).value_or(LockHolder{});
  }
  close(fd);  // releases the shared lock, if taken
  return holder;
}

Result<LockAttempt> AcquireRunLock(const std::string& path, const LockHolder& me) {
  using R = Result<LockAttempt>;
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (Status s = MakeDirs(path.substr(0, slash)); !s.ok()) return R::Error(s.message());
  }
  // The lock's directory and the state directory above it: nobody else may plant a lock there.
  if (slash != std::string::npos && slash > 0) {
    if (Status s = CheckStateDir(path.substr(0, slash), 1); !s.ok()) return R::Error(s.message());
  }
  // O_NOFOLLOW: a symlink planted in place of the lock would have it truncate its target.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (fd < 0 && errno == ELOOP) {
    return R::Error("lock file " + path + " is a symbolic link: not opened (remove it)");
  }
  if (fd < 0) return R::Error(Errno("cannot open lock file", path));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return R::Error("lock file " + path + " is not a regular file: not used (remove it)");
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EWOULDBLOCK) {
      std::string err = Errno("cannot lock", path);
      close(fd);
      return R::Error(err);
    }
    std::optional<LockHolder> holder = ParseHolder(ReadFromStart(fd));
    close(fd);
    return LockAttempt(LockBusy{holder.value_or(LockHolder{})});
  }

  LockAcquired acquired;
  acquired.lock = std::make_unique<RunLock>(path, fd);
  acquired.took_over = ParseHolder(ReadFromStart(fd));
  if (acquired.took_over) {
    const LockHolder& old = *acquired.took_over;
    acquired.process_gone = old.pid > 0 && old.host == me.host && old.boot_id == me.boot_id &&
                            kill(old.pid, 0) != 0 && errno == ESRCH;
    if (old.pid > 0 && !me.boot_id.empty() && old.host == me.host && old.boot_id != me.boot_id) {
      acquired.process_gone = true;  // the machine rebooted since: no process of then survives
    }
  }
  if (Status s = acquired.lock->SetHolder(me); !s.ok()) return R::Error(s.message());
  return LockAttempt(std::move(acquired));
}

}  // namespace runbook
