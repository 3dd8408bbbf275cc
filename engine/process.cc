// The system process runner. Children are started with posix_spawn(3): glibc starts them with
// clone(CLONE_VM|CLONE_VFORK), so the engine's address space (threads, libraries) is never copied
// the way fork() copies it, per step. Exec errors come back as posix_spawn's return value.
// Boost.Process v2 (Boost 1.81, compiled once in engine/bp2_src.cc) only waits for the child,
// through a pidfd, and decodes its native wait status.
#include "engine/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>

// Boost 1.81's v2 headers use these without including them (LIBRARIES.md §1.3): keep them first.
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
// (this comment keeps clang-format from sorting the two above after v2.hpp)
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2.hpp>

#include "engine/fd.h"
#include "engine/group_watchdog.h"
#include "engine/line_splitter.h"

extern char** environ;  // NOLINT: POSIX

namespace runbook {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// After the main process exits, background children still holding the output pipes get this long
// before the group is killed (otherwise Run would wait for them: boostorg/process#468).
constexpr Duration kLeftoverGrace = std::chrono::milliseconds(500);
// After that SIGKILL, how long to keep reading what the dead processes left in the pipes before
// closing our ends anyway (a process that left the group with setsid() may still hold them).
constexpr Duration kPipeDrainGrace = std::chrono::milliseconds(200);
constexpr Duration kCancelPoll = std::chrono::milliseconds(25);

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return "signal " + std::to_string(sig);
  return std::string("SIG") + abbrev;
}

std::string FormatDuration(Duration d) {
  long long ms = d.count();
  if (ms % 1000 != 0) {
    if (ms < 1000) return std::to_string(ms) + "ms";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  long long s = ms / 1000;
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "m";
  if (s % 60 != 0 || out.empty()) out += std::to_string(s % 60) + "s";
  return out;
}

// Starts `program` with posix_spawn: argv as the caller wrote it, the environment `env`, stdin
// from `in` (/dev/null when -1), stdout and stderr to `out` and `err`, the spec's working
// directory, its own process group, only fds 0-2, an empty signal mask and the default action for
// the signals the engine handles or ignores. Returns the pid, or exec's error.
Result<pid_t> Spawn(const std::string& program, const ProcessSpec& spec,
                    const std::vector<std::string>& env, int in, int out, int err) {
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& kv : env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  if (int rc = posix_spawn_file_actions_init(&actions); rc != 0) {
    return Result<pid_t>::Error(ErrnoText(rc));
  }
  if (int rc = posix_spawnattr_init(&attr); rc != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return Result<pid_t>::Error(ErrnoText(rc));
  }
  int rc = in >= 0 ? posix_spawn_file_actions_adddup2(&actions, in, 0)
                   : posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, err, 2);
  if (rc == 0 && !spec.cwd.empty()) {
    rc = posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  }
  // Our own descriptors are close-on-exec; this also closes what a library opened without it.
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM}) sigaddset(&defaults, sig);
  if (rc == 0) {
    rc = posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  if (rc == 0) rc = posix_spawnattr_setpgroup(&attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t pid = -1;
  if (rc == 0) rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  // glibc reaps a child whose exec failed before returning its error.
  if (rc != 0) return Result<pid_t>::Error(ErrnoText(rc));
  return pid;
}

// The environment of the child: ours without `unset`, with `overrides` replacing or adding
// variables.
std::vector<std::string> BuildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& overrides,
    const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const std::string_view name = kv.substr(0, kv.find('='));
    if (std::find(unset.begin(), unset.end(), name) == unset.end()) env.emplace_back(kv);
  }
  for (const auto& [name, value] : overrides) {
    std::string prefix = name + "=";
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& kv) { return kv.starts_with(prefix); });
    if (it != env.end()) {
      *it = prefix + value;
    } else {
      env.push_back(prefix + value);
    }
  }
  return env;
}

// argv[0] as the child's environment would find it: a name without '/' is searched in PATH.
std::string ResolveProgram(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& kv : env) {
    if (kv.starts_with("PATH=")) path = kv.substr(5);
  }
  std::vector<bp::environment::key_value_pair> search_env = {
      bp::environment::key_value_pair("PATH=" + path)};
  return bp::environment::find_executable(name, search_env).string();
}

// The state of one Run: one io_context, run on the calling thread.
class Execution {
 public:
  Execution(const ProcessSpec& spec, OutputSink* out, const CancelToken& cancel,
            const std::vector<std::string>* secrets)
      : spec_(spec),
        cancel_(cancel),
        out_pipe_(ctx_),
        err_pipe_(ctx_),
        in_pipe_(ctx_),
        out_lines_(Stream::kStdout, out, secrets),
        err_lines_(Stream::kStderr, out, secrets),
        deadline_(ctx_),
        kill_timer_(ctx_),
        poll_timer_(ctx_),
        leftover_timer_(ctx_) {}

  ~Execution() {
    if (pgid_ > 0 && !(leader_done_ && !out_open_ && !err_open_)) Signal(SIGKILL);
    // What the group still holds now (a daemon that redirected its output) was started to outlive
    // the step, so it outlives the engine too.
    UnwatchGroup(pgid_);
  }

  // Spawns and runs to completion; fills `result`.
  void Run(const std::string& program, const std::vector<std::string>& env, ProcessResult* result) {
    const bool stdin_pipe = spec_.stdin_data || spec_.keep_stdin_open;
    Pipe in, out, err;
    if (Status st = MakePipe(&out); !st.ok()) return Fail(result, st.message());
    if (Status st = MakePipe(&err); !st.ok()) return Fail(result, st.message());
    if (stdin_pipe) {
      if (Status st = MakePipe(&in); !st.ok()) return Fail(result, st.message());
    }
    auto spawned = Spawn(program, spec_, env, stdin_pipe ? in.read.get() : -1, out.write.get(),
                         err.write.get());
    if (!spawned.ok()) return Fail(result, spec_.argv[0] + ": " + spawned.message());
    // The child has its copies; ours of its ends must go, or we would never see end-of-file.
    in.read.reset();
    out.write.reset();
    err.write.reset();
    out_pipe_.assign(out.read.release());
    err_pipe_.assign(err.read.release());
    if (stdin_pipe) in_pipe_.assign(in.write.release());
    result->started = true;
    pgid_ = *spawned;  // the spawn made the child the leader of a new group before exec
    WatchGroup(pgid_);
    if (spec_.on_group) spec_.on_group(pgid_);
    bp::basic_process<asio::io_context::executor_type> proc(ctx_.get_executor(), *spawned);
    if (spec_.before_input) {
      if (Status st = spec_.before_input(); !st.ok()) {
        Signal(SIGKILL);
        ErrorCode ignored;
        in_pipe_.close(ignored);
        out_pipe_.close(ignored);
        err_pipe_.close(ignored);
        proc.wait(ignored);
        leader_done_ = true;
        out_open_ = err_open_ = false;
        return Fail(result, st.message());
      }
    }

    if (spec_.stdin_data) {
      asio::async_write(in_pipe_, asio::buffer(*spec_.stdin_data), [this](ErrorCode, size_t) {
        // EPIPE when the child does not read its input: not an error of the run.
        ErrorCode ignored;
        if (!spec_.keep_stdin_open) in_pipe_.close(ignored);
      });
    }
    Read(out_pipe_, read_buf_out_, out_lines_, &out_open_);
    Read(err_pipe_, read_buf_err_, err_lines_, &err_open_);
    proc.async_wait([this](ErrorCode wait_ec, int) { LeaderExited(wait_ec); });
    if (spec_.timeout.count() > 0) {
      deadline_.expires_after(spec_.timeout);
      deadline_.async_wait([this](ErrorCode e) {
        if (e || leader_done_) return;
        timed_out_ = true;
        Stop();
      });
    }
    PollCancel();

    ctx_.run();

    result->timed_out = timed_out_;
    result->cancelled = cancelled_;
    if (!wait_error_.empty()) {
      result->error = wait_error_;
    } else {
      int status = proc.native_exit_code();
      if (WIFEXITED(status)) {
        result->exit_code = WEXITSTATUS(status);
      } else if (WIFSIGNALED(status)) {
        result->signal = WTERMSIG(status);
        result->exit_code = 128 + result->signal;
      }
    }
  }

 private:
  static void Fail(ProcessResult* result, std::string message) {
    result->error = std::move(message);
  }

  template <class Buffer>
  void Read(asio::readable_pipe& pipe, Buffer& buf, LineSplitter& lines, bool* open) {
    pipe.async_read_some(asio::buffer(buf),
                         [this, &pipe, &buf, &lines, open](ErrorCode e, size_t n) {
                           if (n > 0) lines.Feed(std::string_view(buf.data(), n));
                           if (e) {
                             lines.Finish();
                             *open = false;
                             ErrorCode ignored;
                             pipe.close(ignored);
                             MaybeFinish();
                             return;
                           }
                           Read(pipe, buf, lines, open);
                         });
  }

  // A timeout or a cancellation: SIGTERM to the group, SIGKILL after the grace period.
  void Stop() {
    if (stopping_ || leader_done_) return;
    stopping_ = true;
    Signal(SIGTERM);
    kill_timer_.expires_after(spec_.kill_grace);
    kill_timer_.async_wait([this](ErrorCode e) {
      if (!e) Signal(SIGKILL);
    });
  }

  void PollCancel() {
    if (leader_done_) return;  // what is left is the leftover grace's business
    if (cancel_.requested()) {
      cancelled_ = true;
      Stop();
      return;
    }
    poll_timer_.expires_after(kCancelPoll);
    poll_timer_.async_wait([this](ErrorCode e) {
      if (!e) PollCancel();
    });
  }

  void LeaderExited(ErrorCode e) {
    if (e) wait_error_ = "waiting for " + spec_.argv[0] + ": " + e.message();
    leader_done_ = true;
    if (spec_.keep_stdin_open) {
      ErrorCode ignored;
      in_pipe_.close(ignored);
    }
    deadline_.cancel();
    kill_timer_.cancel();
    if (out_open_ || err_open_) {
      leftover_timer_.expires_after(kLeftoverGrace);
      leftover_timer_.async_wait([this](ErrorCode te) {
        if (te) return;
        Signal(SIGKILL);
        leftover_timer_.expires_after(kPipeDrainGrace);
        leftover_timer_.async_wait([this](ErrorCode te2) {
          if (te2) return;
          ErrorCode ignored;
          out_pipe_.cancel(ignored);
          err_pipe_.cancel(ignored);
        });
      });
    }
    MaybeFinish();
  }

  void MaybeFinish() {
    if (!leader_done_ || out_open_ || err_open_) return;
    deadline_.cancel();
    kill_timer_.cancel();
    poll_timer_.cancel();
    leftover_timer_.cancel();
    ErrorCode ignored;
    in_pipe_.close(ignored);
  }

  // Signals every process of the child's group. Only called while the group is known to have
  // members (before the leader was reaped, or while they hold our pipes), so the pgid is ours.
  void Signal(int sig) {
    if (pgid_ > 0) kill(-pgid_, sig);
  }

  const ProcessSpec& spec_;
  const CancelToken& cancel_;
  asio::io_context ctx_;  // declared before every I/O object: destroyed last
  asio::readable_pipe out_pipe_;
  asio::readable_pipe err_pipe_;
  asio::writable_pipe in_pipe_;
  std::array<char, 65536> read_buf_out_;
  std::array<char, 65536> read_buf_err_;
  LineSplitter out_lines_;
  LineSplitter err_lines_;
  asio::steady_timer deadline_;
  asio::steady_timer kill_timer_;
  asio::steady_timer poll_timer_;
  asio::steady_timer leftover_timer_;
  pid_t pgid_ = 0;
  bool out_open_ = true;
  bool err_open_ = true;
  bool leader_done_ = false;
  bool stopping_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  std::string wait_error_;
};

// Boost waits for children through a pidfd; without one it would throw after the fork, leaving
// the child unsupervised. So check before the first spawn.
bool PidfdWorks() {
  static const bool works = [] {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
    if (fd < 0) return false;
    close(fd);
    return true;
  }();
  return works;
}

class SystemProcessRunner : public ProcessRunner {
 public:
  ProcessResult Run(const ProcessSpec& spec, OutputSink* out, const CancelToken& cancel) override {
    const Clock::time_point start = Clock::now();
    ProcessResult result;
    if (spec.timeout.count() > 0) result.timeout = spec.timeout;
    RunInto(spec, out, cancel, &result);
    result.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - start);
    return result;
  }

 private:
  static void RunInto(const ProcessSpec& spec, OutputSink* out, const CancelToken& cancel,
                      ProcessResult* result) {
    if (!PidfdWorks()) {
      result->error =
          "pidfd_open(2) is not available (Linux 5.3 or later is needed, or a seccomp profile "
          "blocks it): child processes cannot be supervised";
      return;
    }
    if (spec.argv.empty() || spec.argv[0].empty()) {
      result->error = "empty command";
      return;
    }
    if (!spec.cwd.empty()) {
      struct stat st;
      if (stat(spec.cwd.c_str(), &st) != 0) {
        result->error = "working directory " + spec.cwd + ": " + strerror(errno);
        return;
      }
      if (!S_ISDIR(st.st_mode)) {
        result->error = "working directory " + spec.cwd + ": not a directory";
        return;
      }
    }
    std::vector<std::string> secrets = RedactionOrder(spec.redact);
    try {
      std::vector<std::string> env = BuildEnvironment(spec.env, spec.unset_env);
      std::string program = ResolveProgram(spec.argv[0], env);
      if (program.empty()) {
        result->error = spec.argv[0] + ": not found";
        return;
      }
      auto execution = std::make_unique<Execution>(spec, out, cancel, &secrets);
      execution->Run(program, env, result);
    } catch (const std::exception& e) {
      // Pipes or the reactor could not be set up, or the sink threw. Nothing of ours keeps
      // running: ~Execution kills the group, the process destructor reaps the leader.
      result->error = e.what();
    }
  }
};

}  // namespace

std::string ProcessResult::Describe() const {
  if (!started) return "could not start: " + error;
  if (connection_failed) return "connection failed: " + error;
  if (!error.empty()) return "failed: " + error;
  // A timeout or cancel signals the group; how the process then ended is secondary (ssh, for
  // one, exits 255 on SIGTERM).
  if (timed_out) return "timed out after " + FormatDuration(timeout) + " (killed)";
  if (cancelled) return "cancelled (killed)";
  if (signal != 0) return "killed by " + SignalName(signal);
  return "exit " + std::to_string(exit_code);
}

std::unique_ptr<ProcessRunner> MakeSystemProcessRunner() {
  // Writing a step's stdin after the child closed it must fail with EPIPE, not kill the engine.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  return std::make_unique<SystemProcessRunner>();
}

}  // namespace runbook
