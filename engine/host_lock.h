// The run's lock on its ssh hosts: what keeps two operators (two machines, two state stores) from
// running runbooks that share a lock name on the same ssh host at once, as engine/target_lock.h
// does for database servers.
//
// Before its first step a run takes, on every ssh host its steps use (UsedSshHosts), a `flock` on
// ~/.cache/runbook/locks/<lock name>.lock of the ssh user (the directories created 0700), held by
// a remote session that lives as long as the run: a fixed sh script, run through RemoteHosts::Run
// like a step's command, with the lock name as its argument and the holder's line in its
// environment (both data: they reach the host on argv and on the session's input, never in the
// script's text). It takes the lock with `flock -n`, writes the holder's line into the file,
// prints a reply line and sleeps. At the end of the run the engine ends the script (SIGTERM to
// the pid it named) and waits for it to exit: the lock is free before the engine exits.
// Whatever else ends the local ssh client (the engine killed and its group watchdog killing the
// client, a lost connection once ssh's keepalives give up) ends the session too: the remote
// wrapper stops the script's group on end-of-input. The script empties the file on SIGTERM, and
// the kernel releases the lock when it exits. The holder's line:
//
//     runbook/<run id> lock <pid> <since> <os user>@<host>
//
// the fields of the database lock's application_name, and when the engine started. A host where
// the lock cannot be taken (no `flock`, no home directory to write to) or that cannot be reached
// is listed, not refused: see docs/DECISIONS.md (issue 16).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/cancel.h"
#include "engine/model.h"
#include "engine/process.h"
#include "engine/remote_hosts.h"

namespace runbook {

// The line the holder writes into the lock file (see above); control characters become '?', so
// that it stays one line.
std::string HostLockHolderLine(const std::string& run_id, int pid, const std::string& since,
                               const std::string& os_user, const std::string& host);

// "alice@laptop (pid 4242, run 20261207T150001Z-3fa9, since 2026-12-07T15:00:01.123Z)" for a
// holder's line; another text as the lock file has it (quoted, made printable); an empty one
// (a holder that has not written its line yet, or died before) as such.
std::string DescribeHostLockHolder(std::string_view line);

// The remote command that takes lock `lock_name` (a resource name: no '/') for `holder_line`.
ProcessSpec HostLockSpec(const std::string& lock_name, const std::string& holder_line);

// What the lock script says on its output: one line starting with kHostLockReply, then "held PID"
// (the script's pid on the host), "busy LINE" (LINE: what the lock file says) or
// "unsupported WHY".
inline constexpr std::string_view kHostLockReply = "\x1erunbook:lock ";
struct HostLockReply {
  enum class Kind { kNone, kHeld, kBusy, kUnsupported };
  Kind kind = Kind::kNone;  // kNone: not a reply line
  std::string text;         // the pid (kHeld), the holder's line (kBusy), why (kUnsupported)
};
HostLockReply ParseHostLockReply(std::string_view line);

// Held locks; destroying this ends their sessions and waits (a few seconds at most) for each lock
// script to exit, which releases its lock.
class HostLocks {
 public:
  struct Session;
  HostLocks(RemoteHosts* remote, std::vector<std::unique_ptr<Session>> sessions);
  ~HostLocks();
  HostLocks(const HostLocks&) = delete;
  HostLocks& operator=(const HostLocks&) = delete;
  size_t hosts() const { return sessions_.size(); }

  // Hosts not locked, and why: "host NAME: WHY" (ssh cannot reach it, no flock there, ...). The
  // run goes on; the executor says so.
  std::vector<std::string> not_locked;

 private:
  RemoteHosts* remote_;
  std::vector<std::unique_ptr<Session>> sessions_;
};

struct HostLocksBusy {
  std::string host;    // our name of the host
  std::string holder;  // DescribeHostLockHolder of what its lock file says
};
using HostLockAttempt = std::variant<std::unique_ptr<HostLocks>, HostLocksBusy>;

// Takes `lock_name` on each of `hosts` through `remote` (which must outlive the result), one after
// the other, waiting for each reply up to a minute. A host whose lock file names `holder_line` is
// ours (the same machine under two names). All or nothing: when one host refuses, the locks taken
// so far are released. `interrupt` (Ctrl-C) stops the waiting: the hosts not locked yet are
// listed in not_locked.
HostLockAttempt AcquireHostLocks(RemoteHosts* remote, const std::string& lock_name,
                                 const std::vector<const Host*>& hosts,
                                 const std::string& holder_line, const CancelToken& interrupt);

}  // namespace runbook
