// The ssh implementation of RemoteHosts (engine/remote_hosts.h), over the OpenSSH client with one
// master connection per host per run (ControlMaster, socket in `control_dir`), opened lazily and
// closed by CloseAll(). A host with multiplex: false has none: each command connects on its own,
// and Tunnel() refuses it.
//
// How a remote command runs: through the ssh client, `ssh [host options] -o BatchMode=yes ... -T
// -- TARGET 'exec /bin/sh -c ...'`, on the host's master connection (ControlPath) unless the host
// has multiplex: false. The one remote command word is a small sh script (below,
// BuildRemoteInvocation) that reads the environment values from stdin and then an empty line (sent
// once the engine lets the command start), changes directory, prints a start marker with its
// process group on stderr (sshd made the remote shell the leader of a session and group of its
// own), starts the command in that group and a watcher that stops the group when the ssh
// session's stdin reaches end-of-file while the script still runs, waits for the command, and
// prints an exit marker. The local ssh keeps stdin open for as long as the session should run, so
// that end-of-file means the client is gone: a local timeout or cancel (SIGTERM to the local ssh,
// whose exit ends the session) ends the remote tree too, SIGTERM then SIGKILL after the step's
// kill grace. If the session outlives the command by 0.5 s, processes the command left behind may
// hold its output (sshd waits for them): Run() then runs a second remote command that kills the
// group if one of its processes holds the output pipes the start marker named. The markers are
// removed from the output; they tell "ssh could not connect" (exit 255 before the start marker)
// from "the command exited 255".
//
// Remote requirements: a POSIX sh and kill; /proc (Linux) to find the group under sudo.
// Known limits: if the network drops without the TCP connection closing, the remote command runs on
// until sshd notices; remote background processes still holding the output 0.5 s after the command
// exits are killed (as locally), daemons that let go of the output are left alone.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/process.h"
#include "engine/remote_hosts.h"

namespace runbook {

// `processes` runs the local ssh client; it must outlive the result. `control_dir` holds the
// control sockets and tunnel sockets (a private directory under /tmp is used instead when it is
// empty or too long for a unix socket path). The result's destructor calls CloseAll().
std::unique_ptr<RemoteHosts> MakeSshHosts(const std::string& control_dir, ProcessRunner* processes);

// ---- The pieces, exposed for tests ----------------------------------------------------------

// The ssh client's arguments for `host` up to and including the destination: the host's own
// options first (ssh keeps the first value it gets for an option, so they win), then ours (the
// master at `control_path`, or ControlMaster=no and ControlPath=none for a host with
// multiplex: false), then `extra` (e.g. {"-O", "exit"}), then "--" and the destination.
std::vector<std::string> SshArgv(const Host& host, const std::string& control_path,
                                 const std::vector<std::string>& extra = {});

// The remote half of Run(): the one command word for the remote login shell and what to write on
// the session's stdin: the env values, one sh assignment per line, then an empty line. The
// command starts only once that line arrives, so Run() sends the input after the spec's
// before_input hook (a remote step's journal record is made durable while ssh connects). Errors
// on an invalid environment variable name or an empty argv.
struct RemoteInvocation {
  std::string command;
  std::string stdin_data;
  // The command word that kills the process group the start marker named if its processes hold
  // the output pipes it named, once a space and the marker's group and pipes are appended; run (as
  // the same user) when the session outlives the command.
  std::string kill_leftovers;
};
Result<RemoteInvocation> BuildRemoteInvocation(const ProcessSpec& spec);

// Stderr lines the remote script prints around the command; Run() removes them from the output.
// The start marker is followed by "GROUP STDOUT STDERR BOOT": the process group the command runs
// in, its output pipes as "MOUNT_ID:INODE" (from /proc/self/fdinfo; "-" when unknown) and the
// host's boot id ("-" when unknown). The exit marker is followed by the command's exit status.
inline constexpr std::string_view kRemoteStartMarker = "\x1erunbook:start ";
inline constexpr std::string_view kRemoteExitMarker = "\x1erunbook:exit ";

// Where the database a conninfo names listens, as ssh -L's remote side: "/dir/.s.PGSQL.5432" for
// a socket directory (the default host is /var/run/postgresql), "host:port" for TCP. `port` is
// the port (default 5432). Errors for several hosts.
struct PgEndpoint {
  std::string remote;
  std::string port;
};
Result<PgEndpoint> TunnelEndpoint(const Conninfo& conninfo);

// `conninfo` with host, hostaddr and port replaced to reach a local socket directory.
Conninfo RewriteConninfo(const Conninfo& conninfo, const std::string& socket_dir,
                         const std::string& port);

}  // namespace runbook
