// The run's lock on its database servers: what keeps two operators (two machines, two state
// stores) from running runbooks that share a lock name against the same server at once.
//
// Before its first step a run takes, on every database server its steps use, a session-level
// advisory lock keyed by its lock name (Runbook::LockName), with pg_try_advisory_lock on a
// connection to the server's maintenance database `postgres` (the target database itself may be
// dropped by a step: dropdb --force would end a session in it). The connection is held until the
// run ends; the server releases the lock when it closes, whatever ends the engine (kill -9, a lost
// network once TCP keepalives give up). The holder describes itself in the connection's
// application_name, which every role can read in pg_stat_activity:
//
//     runbook/<run id> lock <pid> <os user>@<host>      (cut to the server's 63 bytes)
//
// It starts with the run's application_name prefix (engine/pg.h RunApplicationPrefix), so the
// run's own postgres_idle and cancel_queries never count it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

class PgConnection;

// The databases the steps, finally steps and their guards use: named by a kind (`db:`, `from:`,
// `to:`) or in a template (`${{ databases.NAME.conninfo }}`), in the order of the runbook's
// `databases:`.
std::vector<std::string> UsedDatabases(const Runbook& rb);

// The ssh hosts (not `local: true`) the steps, finally steps and their guards run on: a step's
// `host:` (or the default host) and the hosts its kind names, in the order of `hosts:`. Their
// lock is engine/host_lock.h.
std::vector<const Host*> UsedSshHosts(const Runbook& rb);

// The advisory lock key of a lock name: FNV-1a 64 of "runbook:" + name, as a signed bigint.
int64_t AdvisoryLockKey(const std::string& lock_name);

// The application_name of a run's lock connections (see above).
std::string LockApplicationName(const std::string& run_id, int pid, const std::string& os_user,
                                const std::string& host);

// The OS user running this process ($USER's account by uid; "uid N" when it has no name).
std::string OsUserName();

// Who holds a lock on a server, as pg_stat_activity shows its connection.
struct TargetLockHolder {
  std::string database;  // our name of the database whose server it is locked on
  int backend_pid = 0;
  std::string application_name;
  std::string db_user;        // the holder's database role
  std::string backend_start;  // RFC 3339 UTC; empty when our role may not see it
  std::string client_addr;    // empty for a unix socket or when not visible

  // "alice@laptop (pid 4242, run 20261207T150001Z-3fa9, since 2026-12-07T15:00:01Z, role jane
  // from 10.0.0.5)", or what the application_name says when it is not the engine's format.
  std::string Describe() const;
};

// Who holds the session-level advisory lock `key` in `conn`'s database now, if anyone.
Result<std::optional<TargetLockHolder>> FindAdvisoryLockHolder(PgConnection& conn, int64_t key);

// Trying the session-level advisory lock `key` in `conn`'s database, without waiting: taken (this
// session holds it now), or who holds it (a holder with conn's own application_name is a
// connection of the same run).
struct AdvisoryLockTry {
  bool taken = false;
  std::optional<TargetLockHolder> holder;  // when not taken; fields empty if it could not be seen
};
Result<AdvisoryLockTry> TryAdvisoryLock(PgConnection& conn, int64_t key);

// A session an earlier engine of the run left on a server, and what ending it took.
struct LeftoverSession {
  std::string database;  // our name of the database whose server it was on
  std::string step;      // the step its application_name names
  int backend_pid = 0;
  std::string state;   // pg_stat_activity.state when found ("active", "idle in transaction")
  bool ended = false;  // false: still there after cancel and terminate
};

// Held locks; destroying this closes the connections, which releases them.
class TargetLocks {
 public:
  // `databases[i]` names the database through which `conns[i]` reached its server.
  TargetLocks(std::vector<std::unique_ptr<PgConnection>> conns, std::vector<std::string> databases);
  ~TargetLocks();
  TargetLocks(const TargetLocks&) = delete;
  TargetLocks& operator=(const TargetLocks&) = delete;
  size_t servers() const { return conns_.size(); }

  // Ends the sessions of run `run_id`'s steps (application_name StepApplicationName) on the locked
  // servers. Called while resuming, before any step of this engine connects: such a session
  // belongs to an engine that died, and the server may not notice for as long as its statement
  // runs (a dead client is found only when the server writes to it), so rerunning the step would
  // run the statement twice at once. Each is cancelled (pg_cancel_backend), then terminated
  // (pg_terminate_backend) if it has not ended within `grace`; the result lists them all.
  Result<std::vector<LeftoverSession>> EndSessionsOfRun(const std::string& run_id,
                                                        std::chrono::milliseconds grace);

  // Why the servers of some databases could not be locked: connecting failed ("cannot connect to
  // database NAME: ..."). A run may create the role or start the server such a database needs,
  // so this does not stop it; the executor says so.
  std::vector<std::string> unreachable;

 private:
  std::vector<std::unique_ptr<PgConnection>> conns_;
  std::vector<std::string> databases_;
};

struct TargetLocksBusy {
  TargetLockHolder holder;
};
using TargetLockAttempt = std::variant<std::unique_ptr<TargetLocks>, TargetLocksBusy>;

// Who holds `lock_name` on the server of `target` now, as a plan asks (connecting to the
// maintenance database with `application_name`); nullopt when nobody does or the server cannot be
// asked: the run would not take the lock there either, and says so.
std::optional<TargetLockHolder> ProbeTargetLock(const std::string& lock_name,
                                                const DbTarget& target,
                                                const std::string& application_name);

// Takes `lock_name` on the server of each of `targets` (resolved databases), connecting as them to
// the maintenance database with `application_name`. Two targets on one server (two databases, or
// two routes to it) share the lock: a lock held by a connection with our own application_name is
// ours. All or nothing: when one server refuses, the locks taken so far are released. A server
// that cannot be connected to is listed in TargetLocks::unreachable; one that cannot be asked
// (a failed query) is an error.
Result<TargetLockAttempt> AcquireTargetLocks(const std::string& lock_name,
                                             const std::vector<DbTarget>& targets,
                                             const std::string& application_name);

}  // namespace runbook
