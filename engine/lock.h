// The run lock: one run of a runbook at a time.
//
// The lock is flock(LOCK_EX|LOCK_NB) on <state>/<runbook>/lock (engine/state_dir.h), held on a
// close-on-exec descriptor for the life of the run, so the kernel releases it when the holder
// exits for any reason, kill -9 included, and step children never inherit it. The file's content
// (one JSON object: pid, host, boot_id, run_id, started) describes the holder for the refusal
// message. A clean release empties the file; content left behind means the previous holder died
// holding the lock, which AcquireRunLock reports as a stale lock taken over.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "engine/diag.h"

namespace runbook {

// Who holds (or held) a lock. Fields read from a lock file may be empty/0 when it was damaged or
// the holder had not written it yet.
struct LockHolder {
  int pid = 0;
  std::string host;
  std::string boot_id;
  std::string run_id;
  std::string started;  // RFC 3339 UTC, as engine/journal.h FormatTimestamp

  // "pid 123 on host h (run 20261125T054302Z-ab12, started 2026-11-25T05:43:02.123Z)", leaving
  // out what is unknown.
  std::string Describe() const;
};

// This process: pid, hostname, boot id (/proc/sys/kernel/random/boot_id, "" if unreadable).
// `run_id` and `started` are left for the caller.
LockHolder ThisProcess();

// A held lock. Destroying it releases the lock (empties the file, then closes it).
class RunLock {
 public:
  // Takes ownership of `fd`, which holds the flock on `path`. Use AcquireRunLock.
  RunLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

  // Rewrites the holder's description, e.g. with the run id once it is known (a run takes the
  // lock before it creates or reopens its run directory).
  Status SetHolder(const LockHolder& holder);

 private:
  const std::string path_;
  const int fd_;
};

struct LockAcquired {
  std::unique_ptr<RunLock> lock;
  // The previous holder when it died holding the lock; `process_gone` says whether its process
  // is verifiably gone (same host and boot, and no such pid).
  std::optional<LockHolder> took_over;
  bool process_gone = false;
};

struct LockBusy {
  LockHolder holder;  // as its lock file says
};

using LockAttempt = std::variant<LockAcquired, LockBusy>;

// Whether a run holds the lock at `path` now, without taking it: a shared flock, which fails
// while a run holds it exclusively. The holder, or nullopt when it is free or the file does not
// exist. (A run that starts in the instant of the probe finds the lock busy and is refused, as
// it would be by another run: the window is a few microseconds.)
Result<std::optional<LockHolder>> ProbeRunLock(const std::string& path);

// Tries once, without waiting, to take the lock at `path` (creating the file, 0600, and its
// directory, 0700, when missing) for `me`, whose description is written into the file.
// Errors only on I/O failure; a lock held by another process is LockBusy, not an error.
Result<LockAttempt> AcquireRunLock(const std::string& path, const LockHolder& me);

}  // namespace runbook
