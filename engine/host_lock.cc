#include "engine/host_lock.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine/printable.h"

namespace runbook {
namespace {

using namespace std::chrono_literals;

// How long a host gets to answer (connecting included: ssh's own ConnectTimeout is 10 s).
constexpr auto kReplyTimeout = 60s;
// How long releasing a lock may take at the end of the run.
constexpr auto kReleaseTimeout = 5s;
constexpr const char* kHolderVar = "RUNBOOK_LOCK_HOLDER";

// The remote side ($1: the lock name; the holder's line in $RUNBOOK_LOCK_HOLDER). Its stdin is
// /dev/null: the remote wrapper (engine/ssh_hosts.h) stops its group when the session's input
// ends. `flock -n` exits 1 when another holds the lock. A holder writes its line just after
// taking the lock, so an empty file is read again for a second before it counts as the holder's
// word. The holder names its pid ("held PID") and waits in `wait`, which a trapped signal
// interrupts (a foreground sleep would delay the trap), on a sleep that does not hold the lock's
// fd. On SIGTERM (the engine's at the end of the run, or the wrapper's when the session's input
// ends) it empties the file and closes the lock's fd before its output, whose end is what ends
// the session: content in a file nobody locks is what a holder that died on the host (SIGKILL, a
// reboot) left.
constexpr const char* kLockScript =
    "say() { printf '\\036runbook:lock %s\\n' \"$*\"; }; "
    "[ -n \"$HOME\" ] || { say unsupported HOME is not set; exit 0; }; "
    "command -v flock >/dev/null 2>&1 || "
    "{ say unsupported no flock command '(util-linux)'; exit 0; }; "
    "d=$HOME/.cache/runbook/locks; f=$d/$1.lock; umask 077; "
    "{ mkdir -p \"$d\" && (true 9<>\"$f\"); } 2>/dev/null || "
    "{ say unsupported cannot create \"$f\"; exit 0; }; "
    "exec 9<>\"$f\"; i=0; "
    "while :; do flock -n 9; c=$?; "
    "if [ $c = 0 ]; then s=; "
    "trap 'kill $s 2>/dev/null; : >\"$f\"; exec 9<&-; exit 0' TERM HUP INT; "
    "printf '%s\\n' \"$RUNBOOK_LOCK_HOLDER\" >\"$f\"; say held $$; "
    "while :; do sleep 3600 9<&- & s=$!; wait $s; done; fi; "
    "[ $c = 1 ] || { say unsupported flock failed with exit $c; exit 0; }; "
    "l=; IFS= read -r l <\"$f\"; "
    "if [ -n \"$l\" ] || [ $i -ge 10 ]; then say busy \"$l\"; exit 0; fi; "
    "i=$((i+1)); sleep 0.1 2>/dev/null || sleep 1; done";

std::string OneLine(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::string HostLockHolderLine(const std::string& run_id, int pid, const std::string& since,
                               const std::string& os_user, const std::string& host) {
  return OneLine("runbook/" + run_id + " lock " + std::to_string(pid) + " " + since + " " +
                 os_user + "@" + host);
}

std::string DescribeHostLockHolder(std::string_view line) {
  if (line.empty()) return "a holder that has not written its name in the lock file";
  // "runbook/<run id> lock <pid> <since> <user>@<host>"; the user may hold a space ("uid 1000").
  std::istringstream in{std::string(line)};
  std::string run, word, pid, since;
  in >> run >> word >> pid >> since;
  std::string who;
  std::getline(in >> std::ws, who);
  const std::string prefix = "runbook/";
  if (run.rfind(prefix, 0) == 0 && run.size() > prefix.size() && word == "lock" && !pid.empty() &&
      !since.empty() && !who.empty()) {
    return Printable(who + " (pid " + pid + ", run " + run.substr(prefix.size()) + ", since " +
                     since + ")");
  }
  return "'" + Printable(line) + "' (as the lock file says)";
}

ProcessSpec HostLockSpec(const std::string& lock_name, const std::string& holder_line) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", kLockScript, "sh", lock_name};
  spec.env = {{kHolderVar, holder_line}};
  // The remote wrapper's SIGTERM-to-SIGKILL grace too: the script ends on SIGTERM at once.
  spec.kill_grace = 1s;
  return spec;
}

HostLockReply ParseHostLockReply(std::string_view line) {
  HostLockReply r;
  if (!line.starts_with(kHostLockReply)) return r;
  line.remove_prefix(kHostLockReply.size());
  const size_t space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  const std::string_view rest =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (word == "held" && !rest.empty() && rest.size() <= 9 &&
      std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    r.kind = HostLockReply::Kind::kHeld;
  } else if (word == "busy") {
    r.kind = HostLockReply::Kind::kBusy;
  } else if (word == "unsupported") {
    r.kind = HostLockReply::Kind::kUnsupported;
  } else {
    return r;
  }
  r.text = rest;
  return r;
}

// One lock session: the remote command runs on a thread of its own until `stop`.
struct HostLocks::Session : public OutputSink {
  const Host* host = nullptr;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  HostLockReply reply;   // guarded by mu: the first reply line
  bool ended = false;    // guarded by mu
  ProcessResult result;  // guarded by mu; set once ended
  std::thread thread;

  ~Session() override {
    stop = true;
    if (thread.joinable()) thread.join();
  }

  // Ends a held lock and waits until the lock script has exited, so that the lock is free when
  // the engine goes on (a run that follows at once, e.g. a runbook sharing the lock, must not
  // find it held). Asks the script to end (SIGTERM to the pid it named) with a second remote
  // command; a session that does not end within a few seconds is cut (stop), which ends it on
  // the host once sshd notices.
  void Release(RemoteHosts* remote) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (ended) return;
    }
    ProcessSpec kill;
    kill.argv = {"kill", "-TERM", reply.text};
    kill.timeout = kReleaseTimeout;
    struct Ignore : OutputSink {
      void Line(Stream, std::string_view) override {}
    } ignore;
    remote->Run(*host, kill, &ignore, CancelToken());
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, kReleaseTimeout, [this] { return ended; });
  }

  void Line(Stream stream, std::string_view line) override {
    if (stream != Stream::kStdout) return;
    HostLockReply r = ParseHostLockReply(line);
    if (r.kind == HostLockReply::Kind::kNone) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (reply.kind != HostLockReply::Kind::kNone) return;
      reply = std::move(r);
    }
    cv.notify_all();
  }

  void Start(RemoteHosts* remote, ProcessSpec spec) {
    thread = std::thread([this, remote, spec = std::move(spec)] {
      ProcessResult r = remote->Run(*host, spec, this, CancelToken(&stop));
      {
        std::lock_guard<std::mutex> lock(mu);
        ended = true;
        result = std::move(r);
      }
      cv.notify_all();
    });
  }
};

HostLocks::HostLocks(RemoteHosts* remote, std::vector<std::unique_ptr<Session>> sessions)
    : remote_(remote), sessions_(std::move(sessions)) {}

HostLocks::~HostLocks() {
  // All hosts at once: each release is a round trip to its host.
  std::vector<std::thread> releases;
  for (auto& s : sessions_) {
    releases.emplace_back([this, session = s.get()] { session->Release(remote_); });
  }
  for (std::thread& t : releases) t.join();
  sessions_.clear();
}

HostLockAttempt AcquireHostLocks(RemoteHosts* remote, const std::string& lock_name,
                                 const std::vector<const Host*>& hosts,
                                 const std::string& holder_line, const CancelToken& interrupt) {
  std::vector<std::unique_ptr<HostLocks::Session>> held;
  std::vector<std::string> not_locked;
  for (const Host* host : hosts) {
    auto s = std::make_unique<HostLocks::Session>();
    s->host = host;
    s->Start(remote, HostLockSpec(lock_name, holder_line));
    const auto until = std::chrono::steady_clock::now() + kReplyTimeout;
    std::unique_lock<std::mutex> lock(s->mu);
    bool interrupted = false, late = false;
    while (s->reply.kind == HostLockReply::Kind::kNone && !s->ended) {
      if ((interrupted = interrupt.requested())) break;
      if ((late = std::chrono::steady_clock::now() >= until)) break;
      s->cv.wait_for(lock, 100ms);
    }
    const HostLockReply reply = s->reply;
    const ProcessResult result = s->result;
    const bool ended = s->ended;
    lock.unlock();
    const std::string where = "host " + host->name + ": ";
    if (reply.kind == HostLockReply::Kind::kHeld) {
      held.push_back(std::move(s));
      continue;
    }
    s.reset();  // ends the session (it ends by itself after any other reply)
    if (reply.kind == HostLockReply::Kind::kBusy) {
      if (reply.text == holder_line) continue;     // ours: the same machine under another name
      HostLocks release(remote, std::move(held));  // all or nothing
      return HostLocksBusy{host->name, DescribeHostLockHolder(reply.text)};
    }
    if (reply.kind == HostLockReply::Kind::kUnsupported) {
      not_locked.push_back(where + Printable(reply.text));
    } else if (interrupted) {
      not_locked.push_back(where + "interrupted before it answered");
      break;
    } else if (late) {
      not_locked.push_back(where + "no answer within " + std::to_string(kReplyTimeout.count()) +
                           "s");
    } else if (ended && result.connection_failed) {
      not_locked.push_back(where + Printable(result.error));
    } else {
      not_locked.push_back(where + "the lock command ended without an answer (" +
                           Printable(result.Describe()) + ")");
    }
  }
  auto locks = std::make_unique<HostLocks>(remote, std::move(held));
  locks->not_locked = std::move(not_locked);
  return HostLockAttempt(std::move(locks));
}

}  // namespace runbook
