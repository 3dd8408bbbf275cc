// The ssh hosts: argv building, the remote wrapper script, master connections and tunnels.
#include "engine/ssh_hosts.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <system_error>
#include <thread>

#include "engine/shell_quote.h"

namespace runbook {
namespace {

using namespace std::chrono_literals;

// Socket paths must fit sockaddr_un (107 bytes). Ssh binds the control socket under a temporary
// name 17 bytes longer than ControlPath; the longest of ours is DIR/ssh-NN.XXXXXXXXXXXXXXXX.
constexpr size_t kMaxDirLength = 80;
constexpr Duration kOpenTimeout = 60s;
constexpr Duration kControlTimeout = 15s;
// As for local steps (engine/process.h): leftovers holding the output get this long.
constexpr Duration kLeftoverGrace = 500ms;

bool ValidEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// ssh expands %-tokens in ControlPath.
std::string EscapePercent(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

// A value as sh text on a single line: newlines become "$__rb_nl", defined by the script.
std::string QuoteOnOneLine(const std::string& value) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t nl = value.find('\n', start);
    out += ShellQuote(
        std::string_view(value).substr(start, nl == std::string::npos ? nl : nl - start));
    if (nl == std::string::npos) break;
    out += "\"$__rb_nl\"";
    start = nl + 1;
  }
  return out;
}

// An ssh message as one clean line: ssh ends some of them with "\r".
std::string CleanMessage(std::string_view line) {
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
    line.remove_suffix(1);
  }
  return std::string(line);
}

// Collects what ssh says, for error messages; forwards nothing.
class CollectSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    if (stream != Stream::kStderr) return;
    if (!CleanMessage(line).empty()) last_err = CleanMessage(line);
    all_err.emplace_back(line);
  }
  std::string last_err;
  std::vector<std::string> all_err;
};

// Removes the remote script's markers from the output and remembers what they said: the start
// marker's words (process group, output pipes) go to `*started`; `on_exit` runs when the exit
// marker arrives.
class MarkerSink : public OutputSink {
 public:
  MarkerSink(OutputSink* out, std::string* started, std::function<void()> on_start,
             std::function<void()> on_exit)
      : out_(out),
        started_(started),
        on_start_(std::move(on_start)),
        on_exit_(std::move(on_exit)) {}
  void Line(Stream stream, std::string_view line) override {
    if (stream == Stream::kStderr) {
      if (line.starts_with(kRemoteStartMarker)) {
        started = true;
        *started_ = line.substr(kRemoteStartMarker.size());
        on_start_();
        return;
      }
      if (line.starts_with(kRemoteExitMarker)) {
        exited = true;
        on_exit_();
        return;
      }
      if (!CleanMessage(line).empty()) last_err = CleanMessage(line);
    }
    if (out_ != nullptr) out_->Line(stream, line);
  }
  bool started = false;
  bool exited = false;
  std::string last_err;

 private:
  OutputSink* out_;
  std::string* started_;
  std::function<void()> on_start_;
  std::function<void()> on_exit_;
};

// Once the remote command has exited (its exit marker), its session should end at once. If it
// still runs kLeftoverGrace later, processes the command left behind hold its output (sshd waits
// for them): `kill` then runs, on a thread of its own, since the step's thread is inside
// ProcessRunner::Run until the session ends.
class LeftoverReaper {
 public:
  explicit LeftoverReaper(std::function<void()> kill) : kill_(std::move(kill)) {}
  ~LeftoverReaper() { Stop(); }
  LeftoverReaper(const LeftoverReaper&) = delete;
  LeftoverReaper& operator=(const LeftoverReaper&) = delete;

  // Called on the step's thread (from the output sink), once or more.
  void Arm() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, kLeftoverGrace, [this] { return stopped_; })) return;
      lock.unlock();
      kill_();
    });
  }

  // The session has ended: no kill from now on; waits for one under way.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<void()> kill_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_
  std::thread thread_;
};

class SshHosts : public RemoteHosts {
 public:
  SshHosts(std::string control_dir, ProcessRunner* processes)
      : requested_dir_(std::move(control_dir)), processes_(processes) {}
  ~SshHosts() override { CloseAll(); }

  ProcessResult Run(const Host& host, const ProcessSpec& spec, OutputSink* out,
                    const CancelToken& cancel) override {
    const auto start = std::chrono::steady_clock::now();
    auto invocation = BuildRemoteInvocation(spec);
    if (!invocation.ok()) {
      ProcessResult r;
      r.error = invocation.message();
      return r;
    }
    std::string control_path;
    if (host.multiplex) {
      Connection* c = Get(host);
      if (c == nullptr) {
        ProcessResult r;
        r.error = dir_error_;
        return r;
      }
      std::lock_guard<std::mutex> lock(c->mu);
      if (!c->opened) {
        Duration limit =
            spec.timeout.count() > 0 ? std::min(spec.timeout, kOpenTimeout) : kOpenTimeout;
        ProcessResult r = Connect(c->host, c->control_path, limit, cancel);
        if (!r.ok()) return r;
        c->opened = true;
      }
      control_path = c->control_path;
    }
    std::string started;  // the start marker's words: the remote group and output pipes
    LeftoverReaper reaper([&] {
      KillLeftovers(host, control_path, invocation->kill_leftovers, started, spec.unset_env);
    });
    // The start marker's group and boot id, for the caller's journal.
    auto report_group = [&] {
      if (!spec.on_remote_group) return;
      std::istringstream words(started);
      std::string group, out_pipe, err_pipe, boot = "-";
      words >> group >> out_pipe >> err_pipe >> boot;
      const int pgid = std::atoi(group.c_str());
      if (pgid > 1) spec.on_remote_group(pgid, boot);
    };
    MarkerSink sink(out, &started, report_group, [&reaper] { reaper.Arm(); });
    // The ssh client, on the master's control socket when the host has one (ControlMaster=auto:
    // it opens a new master if the old one is gone).
    ProcessSpec s;
    s.argv = SshArgv(host, control_path, {"-T"});
    s.argv.push_back(invocation->command);
    s.stdin_data = invocation->stdin_data;
    s.keep_stdin_open = true;
    s.before_input = spec.before_input;
    s.timeout = spec.timeout;
    s.kill_grace = spec.kill_grace;
    s.redact = spec.redact;
    s.unset_env = spec.unset_env;
    ProcessResult r = processes_->Run(s, &sink, cancel);
    reaper.Stop();
    if (r.started && !r.timed_out && !r.cancelled && !sink.exited && r.exit_code == 255) {
      r.connection_failed = true;
      std::string message = sink.last_err.empty() ? "ssh exited 255" : sink.last_err;
      r.error = sink.started ? "connection to " + host.ssh + " lost: " + message : message;
    }
    r.elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
    return r;
  }

  Result<Conninfo> Tunnel(const Host& host, const Conninfo& conninfo) override {
    using R = Result<Conninfo>;
    auto endpoint = TunnelEndpoint(conninfo);
    if (!endpoint.ok()) return R::Error("tunnel through " + host.name + ": " + endpoint.message());
    if (!host.multiplex) {
      return R::Error("tunnel through " + host.name +
                      ": the host has multiplex: false, and a tunnel needs its master connection");
    }
    Connection* c = Get(host);
    if (c == nullptr) return R::Error(dir_error_);

    std::lock_guard<std::mutex> lock(c->mu);
    std::string master = c->opened ? MasterPid(c) : "";
    if (master.empty()) {
      ProcessResult r = Connect(c->host, c->control_path, kOpenTimeout, CancelToken());
      if (!r.ok()) return R::Error("tunnel through " + host.name + ": " + r.Describe());
      c->opened = true;
      master = MasterPid(c);
    }
    Forward* f = nullptr;
    for (Forward& existing : c->forwards) {
      if (existing.remote == endpoint->remote && existing.port == endpoint->port) f = &existing;
    }
    if (f != nullptr && f->master == master) {
      return RewriteConninfo(conninfo, f->socket_dir, f->port);
    }
    if (f == nullptr) {
      // dir_ was set before this connection existed and stays until CloseAll.
      std::string dir = dir_ + "/pg" + std::to_string(next_tunnel_++);
      if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return R::Error("tunnel through " + host.name + ": " + dir + ": " +
                        std::error_code(errno, std::generic_category()).message());
      }
      c->forwards.push_back({endpoint->remote, endpoint->port, dir, ""});
      f = &c->forwards.back();
    }
    // A new master (the old one exited) has no forwards: (re)create it. StreamLocalBindUnlink
    // replaces a stale socket file.
    std::string local = f->socket_dir + "/.s.PGSQL." + f->port;
    ProcessSpec s;
    s.argv = SshArgv(host, c->control_path, {"-O", "forward", "-L", local + ":" + f->remote});
    s.timeout = kControlTimeout;
    CollectSink sink;
    ProcessResult r = processes_->Run(s, &sink, CancelToken());
    if (!r.ok()) {
      return R::Error("tunnel through " + host.name + " to " + f->remote + ": " +
                      (sink.last_err.empty() ? r.Describe() : sink.last_err));
    }
    f->master = master;
    return RewriteConninfo(conninfo, f->socket_dir, f->port);
  }

  Status CheckReachable(const Host& host) override {
    if (!host.multiplex) {
      ProcessResult r = Connect(host, "", 20s, CancelToken());
      if (!r.ok()) return Status::Error("ssh " + host.ssh + ": " + r.Describe());
      return Status::Ok();
    }
    Connection* c = Get(host);
    if (c == nullptr) return Status::Error(dir_error_);
    std::lock_guard<std::mutex> lock(c->mu);
    ProcessResult r = Connect(c->host, c->control_path, 20s, CancelToken());
    if (!r.ok()) return Status::Error("ssh " + host.ssh + ": " + r.Describe());
    c->opened = true;
    return Status::Ok();
  }

  void CloseAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : connections_) {
      std::lock_guard<std::mutex> c_lock(c->mu);
      ProcessSpec s;
      s.argv = SshArgv(c->host, c->control_path, {"-O", "exit"});
      s.timeout = kControlTimeout;
      CollectSink ignored;
      if (c->opened) processes_->Run(s, &ignored, CancelToken());
      // The master removes its socket as it exits, which may be after `-O exit` returned: a
      // refused run's directory, removed next, must be empty by then.
      unlink(c->control_path.c_str());
      std::error_code ec;
      for (const Forward& f : c->forwards) std::filesystem::remove_all(f.socket_dir, ec);
    }
    connections_.clear();
    if (!tmp_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(tmp_dir_, ec);
      tmp_dir_.clear();
      dir_.clear();
    }
  }

 private:
  struct Forward {
    std::string remote;
    std::string port;
    std::string socket_dir;
    std::string master;  // pid of the master that holds it
  };
  struct Connection {
    std::string key;
    Host host;
    std::string control_path;
    std::mutex mu;  // serializes opening the master and adding forwards
    bool opened = false;
    std::vector<Forward> forwards;
  };

  // The connection for `host`, created on first use; null when no socket directory is usable.
  Connection* Get(const Host& host) {
    std::string key =
        host.ssh + '\0' + std::to_string(host.port.value_or(0)) + '\0' + host.identity_file;
    for (const std::string& o : host.options) key += '\0' + o;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& c : connections_) {
      if (c->key == key) return c.get();
    }
    if (dir_.empty() && !MakeDir()) return nullptr;
    auto c = std::make_unique<Connection>();
    c->key = key;
    c->host = host;
    c->control_path = dir_ + "/ssh-" + std::to_string(connections_.size());
    connections_.push_back(std::move(c));
    return connections_.back().get();
  }

  // Chooses the socket directory: the caller's, or a private one when that is unusable.
  bool MakeDir() {
    if (!requested_dir_.empty()) {
      std::error_code ec;
      std::string abs = std::filesystem::absolute(requested_dir_, ec).string();
      // ssh reads ControlPath like a config line: no spaces or quotes; '%' starts a token.
      if (!ec && abs.size() <= kMaxDirLength &&
          abs.find_first_of("% \t\"'\\") == std::string::npos &&
          std::filesystem::is_directory(abs, ec)) {
        dir_ = abs;
        return true;
      }
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "runbook-ssh-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      dir_error_ = "cannot create a directory for ssh control sockets: " +
                   std::error_code(errno, std::generic_category()).message();
      return false;
    }
    dir_ = tmp_dir_ = tmpl;
    return true;
  }

  // Runs `true` on the host: opens (or reuses) the master at `control_path`, or, for a host with
  // multiplex: false, just connects.
  ProcessResult Connect(const Host& host, const std::string& control_path, Duration timeout,
                        const CancelToken& cancel) {
    ProcessSpec s;
    s.argv = SshArgv(host, control_path, {"-T"});
    s.argv.push_back("true");
    s.timeout = timeout;
    CollectSink sink;
    ProcessResult r = processes_->Run(s, &sink, cancel);
    if (!r.started || r.ok() || r.cancelled) return r;
    if (r.timed_out) {
      r.error = "ssh did not connect within " + std::to_string(timeout.count() / 1000) + "s";
    } else {
      r.error = sink.last_err.empty() ? "ssh " + r.Describe() : sink.last_err;
    }
    r.connection_failed = true;
    return r;
  }

  // Kills the remote process group the start marker named (`started`: "GROUP PIPE PIPE BOOT"), as
  // the command's user, with a second ssh command, if its processes hold the output pipes.
  void KillLeftovers(const Host& host, const std::string& control_path,
                     const std::string& kill_command, const std::string& started,
                     const std::vector<std::string>& unset_env) {
    std::vector<std::string> words;
    for (size_t i = 0; i < started.size();) {
      size_t end = std::min(started.find(' ', i), started.size());
      words.emplace_back(started.substr(i, end - i));
      i = end + 1;
    }
    auto digits = [](std::string_view w) {
      return !w.empty() && w.size() <= 18 &&
             std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    auto pipe_id = [&](const std::string& w) {
      size_t colon = w.find(':');
      return w == "-" || (colon != std::string::npos && digits(w.substr(0, colon)) &&
                          digits(w.substr(colon + 1)));
    };
    // Never group 0 or 1: `kill -KILL -1` would be every process the user may signal.
    // The words become arguments of a command line: only these checked shapes get there.
    if (words.size() != 4 || !digits(words[0]) || std::stoll(words[0]) < 2 || !pipe_id(words[1]) ||
        !pipe_id(words[2])) {
      return;
    }
    CollectSink ignored;
    ProcessSpec s;
    s.argv = SshArgv(host, control_path, {"-T"});
    s.argv.push_back(kill_command + " " + words[0] + " " + words[1] + " " + words[2]);
    s.timeout = kControlTimeout;
    s.unset_env = unset_env;
    processes_->Run(s, &ignored, CancelToken());
  }

  // The pid of the running master ("Master running (pid=N)"), or "" when there is none.
  std::string MasterPid(Connection* c) {
    ProcessSpec s;
    s.argv = SshArgv(c->host, c->control_path, {"-O", "check"});
    s.timeout = kControlTimeout;
    CollectSink sink;
    ProcessResult r = processes_->Run(s, &sink, CancelToken());
    if (!r.ok()) return "";
    for (const std::string& line : sink.all_err) {
      size_t p = line.find("pid=");
      if (p != std::string::npos) return line.substr(p + 4, line.find(')', p) - p - 4);
    }
    return "?";
  }

  const std::string requested_dir_;
  ProcessRunner* const processes_;
  std::mutex mu_;  // guards everything below
  std::string dir_;
  std::string tmp_dir_;  // ours to remove
  std::string dir_error_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::atomic<int> next_tunnel_{0};
};

}  // namespace

std::vector<std::string> SshArgv(const Host& host, const std::string& control_path,
                                 const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"ssh"};
  for (const std::string& o : host.options) argv.insert(argv.end(), {"-o", o});
  std::vector<std::string> ours = {"BatchMode=yes", "ConnectTimeout=10", "ServerAliveInterval=15",
                                   "ServerAliveCountMax=3"};
  if (host.multiplex) {
    ours.insert(ours.end(), {"ControlMaster=auto", "ControlPath=" + EscapePercent(control_path),
                             // Idle masters exit by themselves if the engine dies before CloseAll.
                             "ControlPersist=300", "StreamLocalBindUnlink=yes"});
  } else {
    // Not a master, and not a client of one that ~/.ssh/config may name either.
    ours.insert(ours.end(), {"ControlMaster=no", "ControlPath=none"});
  }
  for (const std::string& o : ours) argv.insert(argv.end(), {"-o", o});
  if (host.port) argv.insert(argv.end(), {"-p", std::to_string(*host.port)});
  if (!host.identity_file.empty()) argv.insert(argv.end(), {"-i", host.identity_file});
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--", host.ssh});
  return argv;
}

Result<RemoteInvocation> BuildRemoteInvocation(const ProcessSpec& spec) {
  using R = Result<RemoteInvocation>;
  std::vector<std::string> argv = spec.argv;
  std::string user;
  if (argv.size() >= 6 && argv[0] == "sudo" && argv[1] == "-n" && argv[2] == "-u" &&
      argv[4] == "--") {
    user = argv[3];
    argv.erase(argv.begin(), argv.begin() + 5);
  }
  if (argv.empty() || argv[0].empty()) return R::Error("empty command");
  // The session's stdin carries the environment and then signals the client's presence.
  if (spec.stdin_data) return R::Error("input for a command (stdin) is not supported on ssh hosts");

  RemoteInvocation inv;
  auto has_newline = [](const std::string& w) { return w.find('\n') != std::string::npos; };
  bool newline = has_newline(spec.cwd) || std::any_of(argv.begin(), argv.end(), has_newline);
  std::string exports;
  for (size_t i = 0; i < spec.env.size(); ++i) {
    const auto& [name, value] = spec.env[i];
    if (!ValidEnvName(name)) return R::Error("invalid environment variable name '" + name + "'");
    newline = newline || has_newline(value);
    std::string var = "__rb_e" + std::to_string(i);
    inv.stdin_data += var + "=" + QuoteOnOneLine(value) + "\n";
    exports += (exports.empty() ? "export " : " ") + name + "=\"$" + var + "\"";
  }
  inv.stdin_data += "\n";
  long long grace = std::max<long long>(1, (spec.kill_grace.count() + 999) / 1000);

  // One line of sh: csh-family login shells reject newlines inside quotes.
  std::string s;
  if (newline) s += "__rb_nl=$(printf '\\nx'); __rb_nl=${__rb_nl%x}; ";
  if (!spec.env.empty()) {
    s += "__rb_i=0; while [ $__rb_i -lt " + std::to_string(spec.env.size()) +
         " ]; do IFS= read -r __rb_l || exit 125; eval \"$__rb_l\"; __rb_i=$((__rb_i+1)); done; ";
  }
  // The input ends with an empty line, sent once the engine lets the command start.
  s += "IFS= read -r __rb_l || exit 125; ";
  if (!spec.cwd.empty()) s += "cd -- " + QuoteOnOneLine(spec.cwd) + " || exit 125; ";
  // sshd made this shell the leader of a session and process group of its own (under sudo the
  // group is sudo's): the command runs in it, without a setsid of its own. The start marker names
  // the group and the output pipes (mount id and inode of fds 1 and 2, "-" where /proc does not
  // say), all read from /proc without a fork: the engine kills leftovers that hold those pipes.
  s += "__rb_g=$$; if IFS= read -r __rb_l 2>/dev/null </proc/self/stat; then "
       "__rb_l=${__rb_l##*) }; set -- $__rb_l; __rb_g=$3; set --; fi; __rb_i=; "
       "for __rb_f in 1 2; do __rb_m=; __rb_n=; while IFS=': \t' read -r __rb_k __rb_v; do "
       "case $__rb_k in mnt_id) __rb_m=$__rb_v;; ino) __rb_n=$__rb_v;; esac; "
       "done 2>/dev/null </proc/self/fdinfo/$__rb_f; "
       "[ -n \"$__rb_m\" ] && [ -n \"$__rb_n\" ] && __rb_i=\"$__rb_i $__rb_m:$__rb_n\" || "
       "__rb_i=\"$__rb_i -\"; done; "
       "__rb_b=-; IFS= read -r __rb_b 2>/dev/null </proc/sys/kernel/random/boot_id; "
       "printf '\\036runbook:start %s%s %s\\n' \"$__rb_g\" \"$__rb_i\" \"$__rb_b\" >&2; exec 3<&0; "
       "( ";
  if (!exports.empty()) s += exports + "; ";
  if (argv.size() == 3 && argv[0] == "/bin/sh" && argv[1] == "-c") {
    // A shell command runs in this /bin/sh's subshell rather than in a /bin/sh of its own: one
    // exec less per step. Only $$ and $PPID differ (the wrapper's).
    s += "eval " + QuoteOnOneLine(argv[2]);
  } else {
    s += "exec";
    for (const std::string& a : argv) s += " " + QuoteOnOneLine(a);
  }
  s += " ) </dev/null & __rb_p=$!; ";
  // The watcher, in the group too: end of the session's input means the client is gone; it then
  // stops the group (itself last: it ignores SIGTERM). Once the command has exited, the script
  // ends the watcher: sshd may close the input as the output ends, before it reaps the script.
  s += "{ trap '' TERM; while IFS= read -r __rb_l; do :; done; kill -TERM 0; sleep " +
       std::to_string(grace) + "; kill -KILL 0; } <&3 >/dev/null 2>&1 & __rb_w=$!; ";
  s += "exec 3<&-; wait $__rb_p; __rb_rc=$?; kill -KILL $__rb_w; "
       "printf '\\036runbook:exit %d\\n' $__rb_rc >&2; exit $__rb_rc";

  inv.command = "exec ";
  if (!user.empty()) inv.command += "sudo -n -u " + ShellQuote(user) + " -- ";
  inv.command += "/bin/sh -c " + ShellQuote(s);
  // Kills group $1 if one of its processes holds pipe $2 or $3 (as fdinfo names them; "-":
  // unknown, then the group is killed): a session that is merely slow to end is left alone.
  const std::string kill_script =
      "g=$1 o=$2 e=$3; held() { for d in /proc/[0-9]*; do "
      "IFS= read -r s 2>/dev/null <$d/stat || continue; s=${s##*) }; set -- $s; "
      "[ \"$3\" = \"$g\" ] || continue; for f in $d/fdinfo/*; do m=; n=; "
      "while IFS=': \t' read -r k v; do case $k in mnt_id) m=$v;; ino) n=$v;; esac; "
      "done 2>/dev/null <$f; [ \"$m:$n\" = \"$o\" ] || [ \"$m:$n\" = \"$e\" ] && return 0; "
      "done; done; return 1; }; "
      "if [ \"$o\" = - ] || [ \"$e\" = - ] || held; then kill -KILL -$g; fi";
  inv.kill_leftovers = "exec ";
  if (!user.empty()) inv.kill_leftovers += "sudo -n -u " + ShellQuote(user) + " -- ";
  // The start marker's words (group, pipes) are appended.
  inv.kill_leftovers += "/bin/sh -c " + ShellQuote(kill_script) + " sh";
  return inv;
}

Result<PgEndpoint> TunnelEndpoint(const Conninfo& conninfo) {
  using R = Result<PgEndpoint>;
  const std::string* host = FindKeyword(conninfo, "host");
  const std::string* hostaddr = FindKeyword(conninfo, "hostaddr");
  const std::string* port = FindKeyword(conninfo, "port");
  // hostaddr, when given, is where libpq connects; host then only names the server.
  std::string where = hostaddr && !hostaddr->empty() ? *hostaddr
                      : host && !host->empty()       ? *host
                                                     : "/var/run/postgresql";
  PgEndpoint ep;
  ep.port = port && !port->empty() ? *port : "5432";
  if (where.find(',') != std::string::npos || ep.port.find(',') != std::string::npos) {
    return R::Error("a tunnelled database must name one host, not a list");
  }
  if (!std::all_of(ep.port.begin(), ep.port.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return R::Error("invalid port \"" + ep.port + "\"");
  }
  if (where[0] == '/') {
    ep.remote = where + "/.s.PGSQL." + ep.port;
  } else if (where.find(':') != std::string::npos) {
    ep.remote = "[" + where + "]:" + ep.port;  // IPv6 literal
  } else {
    ep.remote = where + ":" + ep.port;
  }
  return ep;
}

Conninfo RewriteConninfo(const Conninfo& conninfo, const std::string& socket_dir,
                         const std::string& port) {
  Conninfo out;
  for (const auto& kv : conninfo) {
    if (kv.first != "host" && kv.first != "hostaddr" && kv.first != "port") out.push_back(kv);
  }
  out.emplace_back("host", socket_dir);
  out.emplace_back("port", port);
  return out;
}

std::unique_ptr<RemoteHosts> MakeSshHosts(const std::string& control_dir,
                                          ProcessRunner* processes) {
  return std::make_unique<SshHosts>(control_dir, processes);
}

}  // namespace runbook
