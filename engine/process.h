// Running child processes: the only unit that includes Boost.Process (see process.cc).
//
// Every child runs in its own process group with stdin from /dev/null (or a pipe carrying
// `stdin_data`), stdout and stderr read concurrently and split into lines for an OutputSink.
// A timeout or cancellation sends SIGTERM to the whole group, then SIGKILL after `kill_grace`.
#pragma once

#include <sys/types.h>

#include <chrono>
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
  std::optional<std::string> stdin_data;  // written to the child's stdin, then closed
  // Keep the stdin pipe open (after `stdin_data`) until the child has exited: the ssh wrapper's
  // remote side takes end-of-input as "the client is gone" and kills the remote command.
  bool keep_stdin_open = false;
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
  // "could not start: ...",
  // "connection failed: ssh: connect to host ... Connection refused"
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

// The real runner on Boost.Process v2.
std::unique_ptr<ProcessRunner> MakeSystemProcessRunner();

}  // namespace runbook
