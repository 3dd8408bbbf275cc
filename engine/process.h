// Running child processes: the only unit that includes Boost.Process (see process.cc).
//
// Every child runs in its own process group with stdin from /dev/null (or a pipe carrying
// `stdin_data`), stdout and stderr read concurrently and split into lines for an OutputSink
// (a line without its newline; lines over 64 KiB are cut; at end of stream a last partial line is
// delivered too). A timeout or cancellation (the CancelToken is polled every 25 ms) sends SIGTERM
// to the whole group, then SIGKILL after `kill_grace`: SIGTERM rather than SIGINT because a
// non-interactive shell starts its background jobs with SIGINT ignored.
//
// While a child's group runs it is registered with the watchdog (engine/group_watchdog.h), which
// kills it if the engine dies.
//
// Once the child exits, processes of its group still holding its stdout/stderr get 0.5 s, then
// the group is killed, so Run returns (boostorg/process#468). Processes that redirected their
// output (daemons) are left running. A process that calls setsid() leaves the group and escapes
// the kill on timeout or cancel (only cgroups could contain it).
//
// Children get only fds 0, 1, 2, the default disposition of SIGPIPE/SIGINT/SIGTERM and an empty
// signal mask, whatever the engine uses. They inherit the engine's environment plus `env`: do
// not change the engine's environment (setenv) while processes run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/cancel.h"
#include "engine/model.h"
#include "engine/output.h"

namespace runbook {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] without a '/' is looked up in PATH
  std::string cwd;                // empty: inherit
  std::vector<std::pair<std::string, std::string>> env;  // added to (overriding) the engine's env
  // Removed from the engine's env before `env` is applied: the variables secrets are read from,
  // so that a child sees a secret only where a step passes it on explicitly.
  std::vector<std::string> unset_env;
  std::optional<std::string> stdin_data;  // written to the child's stdin, then closed
  // Keep the stdin pipe open (after `stdin_data`) until the child has exited: the ssh wrapper's
  // remote side takes end-of-input as "the client is gone" and kills the remote command.
  bool keep_stdin_open = false;
  // Called once the child runs, before `stdin_data` is written; an error stops the child (SIGKILL)
  // and becomes the result's error. The ssh wrapper waits for its input before it starts the
  // command, so this is where a remote step's start is made durable while ssh connects.
  std::function<Status()> before_input;
  // Called once the child runs, with its process group, so that the caller can record it (the
  // journal does: a resume finds a step's processes still alive by it).
  std::function<void(int pgid)> on_group;
  // The same for a command run on an ssh host (engine/ssh_hosts.h): the remote process group and
  // that host's boot id ("-" when it does not say), once the remote command runs.
  std::function<void(int pgid, const std::string& boot_id)> on_remote_group;
  Duration timeout{0};  // 0: no timeout
  Duration kill_grace = std::chrono::seconds(5);
  std::vector<std::string> redact;  // values replaced by "***" in every output line
};

struct ProcessResult {
  bool started = false;  // false: could not spawn; `error` says why
  int exit_code = -1;    // as a shell reports it: 128+N when killed by signal N
  int signal = 0;        // the signal that ended the child, 0 if it exited
  bool timed_out = false;
  bool cancelled = false;  // ended because the CancelToken was set
  // ssh could not reach the host (or lost the connection); `error` has ssh's own message.
  bool connection_failed = false;
  Duration elapsed{0};
  Duration timeout{0};  // the spec's timeout (for Describe)
  std::string error;
  bool ok() const { return started && exit_code == 0 && !timed_out && !cancelled; }
  // "exit 3", "killed by SIGTERM", "timed out after 5s (killed)", "cancelled (killed)",
  // "could not start: ssh: not found", "connection failed: ssh: connect to host ... refused"
  std::string Describe() const;
};

// The seam between the engine and the operating system's processes.
class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs to completion. Blocks; safe to call from several threads at once (one child each).
  virtual ProcessResult Run(const ProcessSpec& spec, OutputSink* out,
                            const CancelToken& cancel) = 0;
};

// The real runner on Boost.Process v2. Sets SIGPIPE to SIG_IGN in the engine (once): writing
// `stdin_data` to a child that closed its stdin must fail with EPIPE, not kill the engine.
std::unique_ptr<ProcessRunner> MakeSystemProcessRunner();

}  // namespace runbook
