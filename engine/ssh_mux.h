// A client of OpenSSH's connection multiplexing protocol (PROTOCOL.mux in the OpenSSH sources,
// version 4, as `ssh -S` speaks it): runs a command as a new session of a running master
// connection by talking to its control socket directly, without an ssh client process per command
// (bench/README.md measured that exec as most of a remote step's cost).
//
// One control connection per session: connect to the socket, exchange MUX_MSG_HELLO (version 4),
// send MUX_C_NEW_SESSION (no tty, no forwarding, no escape character, no environment) with the
// command, then pass the session's stdin, stdout and stderr (pipes of ours) with SCM_RIGHTS, one
// fd per one-byte message as ssh's mm_send_fd does. The master answers MUX_S_SESSION_OPENED (or
// MUX_S_FAILURE / MUX_S_PERMISSION_DENIED), relays the session's data through the pipes, sends
// MUX_S_EXIT_MESSAGE with the remote exit status and closes the connection when the session ends.
// A session that ends without an exit status (the remote process died by a signal: the master
// does not relay exit-signal) or a master that dies mid-session leave no exit message.
//
// Closing our end of the stdin pipe ends the session's input (the master sends EOF); closing the
// control connection makes the master close the session's input and output as well.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/cancel.h"
#include "engine/diag.h"
#include "engine/model.h"
#include "engine/output.h"
#include "engine/process.h"

namespace runbook {

inline constexpr unsigned kMuxVersion = 4;

// Message types of PROTOCOL.mux used here.
enum MuxMessage : unsigned {
  kMuxHello = 0x00000001,
  kMuxNewSession = 0x10000002,
  kMuxPermissionDenied = 0x80000002,
  kMuxFailure = 0x80000003,
  kMuxExitMessage = 0x80000004,
  kMuxSessionOpened = 0x80000006,
  kMuxTtyAllocFail = 0x80000008,
};

struct MuxSessionSpec {
  std::string command;     // the remote command line, as ssh's one command argument
  std::string stdin_data;  // written to the session's stdin, which stays open until it ends
  // Called once the session request is on its way (the channel opens meanwhile), before
  // `stdin_data` is written; an error abandons the session and becomes the result's error.
  std::function<Status()> before_input;
  // Timeout or cancel: our end of stdin is closed (the remote side takes end-of-input as "stop");
  // the session then gets `kill_grace` plus a little to end before the control connection is
  // closed too.
  Duration timeout{0};
  Duration kill_grace{0};
  std::vector<std::string> redact;  // values masked in every output line
};

struct MuxSessionResult {
  // The master could not take the session: nothing listens on the socket, the hello failed, it
  // did not take the request, or it refused the session. Nothing ran remotely; `message` says
  // why. The caller may use the ssh client instead. A master that closes the connection after
  // taking the request and before the session opened is not that: the command may have
  // started (exit code 255 and `message`, as for a session that ended without an exit status).
  bool unavailable = false;
  // Whether `before_input` was called (and succeeded): a fallback must not call it again.
  bool input_allowed = false;
  // For an opened session that ended without an exit status: why (result.exit_code is then 255,
  // as the ssh client would exit).
  std::string message;
  // started: the session request was sent. exit_code: the remote exit status. timed_out,
  // cancelled, elapsed, error (before_input's) as for a local process.
  ProcessResult result;
};

// Runs a session of the master listening at `control_path`; output lines go to `out`. Blocks;
// safe to call from several threads at once.
MuxSessionResult RunMuxSession(const std::string& control_path, const MuxSessionSpec& spec,
                               OutputSink* out, const CancelToken& cancel);

// ---- The protocol's framing, exposed for tests ---------------------------------------------

// A packet: the 32-bit big-endian length of the body, then the body.
std::string MuxPacket(const std::string& body);
// Big-endian 32-bit integers and length-prefixed strings, as the packet bodies are made of.
void MuxPutU32(std::string* body, unsigned value);
void MuxPutString(std::string* body, const std::string& value);
// The body of the MUX_C_NEW_SESSION request for `command`, request id `request_id`.
std::string MuxNewSessionBody(unsigned request_id, const std::string& command);

}  // namespace runbook
