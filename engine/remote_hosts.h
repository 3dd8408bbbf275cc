// Reaching ssh hosts: the seam between the executor and the ssh implementation.
//
// Run() executes a ProcessSpec on the remote host: argv is run there (no shell on our side), `cwd`
// and `env` are applied on the remote side, env values travel on the ssh session's stdin (never
// in argv, never through environment forwarding), and a timeout or cancel ends the remote
// process tree, not only the local ssh client. An argv that starts with `sudo -n -u USER --` runs
// the rest as USER, with cwd and env applied under sudo (sudo would reset the environment).
// The remote command's stdin is /dev/null; `stdin_data` is not supported remotely.
#pragma once

#include <memory>
#include <string>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/pg_conninfo.h"
#include "engine/process.h"

namespace runbook {

class RemoteHosts {
 public:
  virtual ~RemoteHosts() = default;
  // Safe to call from several threads at once. When ssh cannot reach the host (or loses the
  // connection), the result has `connection_failed` and ssh's own message in `error`.
  virtual ProcessResult Run(const Host& host, const ProcessSpec& spec, OutputSink* out,
                            const CancelToken& cancel) = 0;
  // Opens (once per host and target) a forward to the database `conninfo` names on `host` and
  // returns the conninfo that reaches it from here.
  virtual Result<Conninfo> Tunnel(const Host& host, const Conninfo& conninfo) = 0;
  // Whether the host answers now (for `plan`).
  virtual Status CheckReachable(const Host& host) = 0;
  // Closes master connections and forwards; called at the end of the run, when no Run or Tunnel
  // is in progress.
  virtual void CloseAll() = 0;
};

}  // namespace runbook
