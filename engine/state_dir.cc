#include "engine/state_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <tuple>

#include "engine/journal.h"

namespace runbook {
namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  if (home && *home) return home;
  if (struct passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (!d) return names;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  return names;
}

Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Error(Errno("cannot open directory", dir));
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return Status::Error(Errno("cannot fsync directory", dir));
  return Status::Ok();
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string StateDir() {
  if (const char* dir = std::getenv("RUNBOOK_STATE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && xdg[0] == '/') {
    return std::string(xdg) + "/runbook";
  }
  return HomeDir() + "/.local/state/runbook";
}

bool IsValidRunbookName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || IsDigit(c) || (i > 0 && c == '-');
    if (!ok) return false;
  }
  return true;
}

bool IsStepId(std::string_view id) {
  if (id.empty() || !(IsDigit(id[0]) || (id[0] >= 'a' && id[0] <= 'z'))) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return IsDigit(c) || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
  });
}

Status CheckStateDir(const std::string& dir, int ancestors) {
  std::string path = dir;
  for (int i = 0; i <= ancestors && !path.empty(); ++i) {
    struct stat st {};
    // The state root may be reached through a symlink the user made (stat); below it, lstat.
    const int rc = i == ancestors ? stat(path.c_str(), &st) : lstat(path.c_str(), &st);
    if (rc != 0) {
      if (errno != ENOENT) return Status::Error(Errno("cannot inspect state directory", path));
    } else if (!S_ISDIR(st.st_mode)) {
      return Status::Error("state directory " + path + " is not a directory");
    } else if (st.st_uid != geteuid()) {
      return Status::Error("state directory " + path + " is owned by uid " +
                           std::to_string(st.st_uid) + ", not by this user (uid " +
                           std::to_string(geteuid()) +
                           "): someone else could plant files in it; use a directory of your own "
                           "(RUNBOOK_STATE_DIR)");
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return Status::Error("state directory " + path + " is writable by " +
                           ((st.st_mode & S_IWOTH) ? "others" : "its group") + " (mode " + mode +
                           "): someone else could plant files in it; chmod go-w " + path);
    }
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) break;
    path = slash == 0 ? std::string("/") : path.substr(0, slash);
  }
  return Status::Ok();
}

bool IsRunId(std::string_view id) {
  // 20261125T054302Z-3fa9
  if (id.size() != 21 || id[8] != 'T' || id[15] != 'Z' || id[16] != '-') return false;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !IsDigit(id[i])) return false;
  }
  for (size_t i = 17; i < 21; ++i) {
    if (!IsLowerHex(id[i])) return false;
  }
  return true;
}

std::string FormatRunId(std::chrono::system_clock::time_point now, uint32_t random) {
  time_t tt = std::chrono::system_clock::to_time_t(now);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[80];  // room for any int, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%04x", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, random & 0xffffu);
  return buf;
}

std::string NewRunId() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return FormatRunId(std::chrono::system_clock::now(), static_cast<uint32_t>(rng()));
}

std::string RunbookStateDir(const std::string& state, const std::string& runbook) {
  return state + "/" + runbook;
}

std::string RunDir(const std::string& state, const std::string& runbook,
                   const std::string& run_id) {
  return RunbookStateDir(state, runbook) + "/runs/" + run_id;
}

std::string JournalPath(const std::string& run_dir) {
  return run_dir + "/journal.jsonl";
}

std::string StepLogPath(const std::string& run_dir, const std::string& step_id) {
  return run_dir + "/logs/" + step_id + ".log";
}

std::string LockPath(const std::string& state, const std::string& runbook) {
  return RunbookStateDir(state, runbook) + "/lock";
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::Error("empty directory name");
  // Create each prefix in turn; EEXIST is fine as long as it is a directory.
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (mkdir(prefix.c_str(), 0700) != 0) {
      if (errno != EEXIST) return Status::Error(Errno("cannot create directory", prefix));
      if (!IsDir(prefix)) {
        return Status::Error("cannot create directory " + prefix + ": not a directory");
      }
      continue;
    }
    // A new directory's name lives in its parent: make it durable before anything goes inside.
    size_t slash = prefix.rfind('/');
    std::string parent = slash == std::string::npos ? "."
                         : slash == 0               ? "/"
                                                    : prefix.substr(0, slash);
    if (Status s = FsyncDir(parent); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<RunInfo> CreateRunDir(const std::string& state, const std::string& runbook) {
  using R = Result<RunInfo>;
  if (!IsValidRunbookName(runbook)) {
    return R::Error("invalid runbook name '" + runbook + "' for the state directory");
  }
  const std::string runs = RunbookStateDir(state, runbook) + "/runs";
  if (Status s = MakeDirs(runs); !s.ok()) return R::Error(s.message());
  if (Status s = CheckStateDir(runs, 2); !s.ok()) return R::Error(s.message());
  // 65536 suffixes per second; a handful of tries only fail when something else is wrong.
  for (int attempt = 0; attempt < 16; ++attempt) {
    RunInfo info;
    info.name = runbook;
    info.run_id = NewRunId();
    info.dir = runs + "/" + info.run_id;
    info.journal = JournalPath(info.dir);
    if (mkdir(info.dir.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return R::Error(Errno("cannot create run directory", info.dir));
    }
    const std::string logs = info.dir + "/logs";
    if (mkdir(logs.c_str(), 0700) != 0) return R::Error(Errno("cannot create directory", logs));
    if (Status s = FsyncDir(info.dir); !s.ok()) return R::Error(s.message());
    if (Status s = FsyncDir(runs); !s.ok()) return R::Error(s.message());
    return info;
  }
  return R::Error("cannot find an unused run id under " + runs);
}

void DiscardUnstartedRun(const std::string& run_dir) {
  struct stat journal {};
  const std::string path = JournalPath(run_dir);
  if (stat(path.c_str(), &journal) == 0 && journal.st_size != 0) return;
  unlink(path.c_str());
  rmdir((run_dir + "/logs").c_str());
  rmdir(run_dir.c_str());
}

std::vector<RunInfo> ListRuns(const std::string& state, const std::string& runbook) {
  std::vector<std::string> names;
  if (!runbook.empty() && !IsValidRunbookName(runbook)) return {};
  if (runbook.empty()) {
    for (std::string& n : DirEntries(state)) {
      if (IsValidRunbookName(n)) names.push_back(std::move(n));
    }
  } else {
    names.push_back(runbook);
  }
  std::vector<RunInfo> runs;
  for (const std::string& name : names) {
    const std::string dir = RunbookStateDir(state, name) + "/runs";
    for (std::string& id : DirEntries(dir)) {
      if (!IsRunId(id) || !IsDir(dir + "/" + id)) continue;
      // A run directory without a journal record is a run whose engine died while creating it:
      // it never started anything, so it is not a run.
      struct stat journal {};
      if (stat(JournalPath(dir + "/" + id).c_str(), &journal) != 0 || journal.st_size == 0)
        continue;
      RunInfo info;
      info.name = name;
      info.dir = dir + "/" + id;
      info.journal = JournalPath(info.dir);
      info.run_id = std::move(id);
      // "20261125T054302Z-..." as RFC 3339, the fallback when the first record is unreadable.
      const std::string& r = info.run_id;
      const std::string id_time = r.substr(0, 4) + "-" + r.substr(4, 2) + "-" + r.substr(6, 2) +
                                  "T" + r.substr(9, 2) + ":" + r.substr(11, 2) + ":" +
                                  r.substr(13, 2) + "Z";
      info.started_ms =
          ReadJournalStartMs(info.journal).value_or(ParseTimestampMs(id_time).value_or(0));
      runs.push_back(std::move(info));
    }
  }
  std::sort(runs.begin(), runs.end(), [](const RunInfo& a, const RunInfo& b) {
    return std::tie(a.started_ms, a.run_id, a.name) < std::tie(b.started_ms, b.run_id, b.name);
  });
  return runs;
}

std::optional<RunInfo> FindRun(const std::string& state, const std::string& run_id) {
  if (!IsRunId(run_id)) return std::nullopt;
  for (RunInfo& info : ListRuns(state, "")) {
    if (info.run_id == run_id) return std::move(info);
  }
  return std::nullopt;
}

std::optional<RunInfo> LatestRun(const std::string& state, const std::string& runbook) {
  std::vector<RunInfo> runs = ListRuns(state, runbook);
  if (runs.empty()) return std::nullopt;
  return std::move(runs.back());
}

}  // namespace runbook
