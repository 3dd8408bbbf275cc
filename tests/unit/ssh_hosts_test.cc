// Tests of the ssh pieces that need no sshd: argv, the remote script (run here with sh), conninfo.
// tests/integration/ssh_test.cc runs them against a real sshd.
#include "engine/ssh_hosts.h"
#include "engine/shell_quote.h"
#include "tests/support/out_err_sink.h"
#include "tests/support/proc_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::OutErrSink;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// Alive and not a zombie waiting for init (polls up to 3 s for it to go).
bool StillAlive(pid_t pid) {
  for (int i = 0; i < 150; ++i) {
    if (!runbook::testing::IsLiveProcess(pid)) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST(SshArgvTest, HostOptionsFirstThenOursThenDestination) {
  Host h;
  h.ssh = "jane@db.example.org";
  h.port = 2222;
  h.identity_file = "/keys/id";
  h.options = {"ConnectTimeout=3"};
  std::vector<std::string> argv = SshArgv(h, "/run/x/ssh-0", {"-O", "check"});
  ASSERT_GE(argv.size(), 8u);
  EXPECT_EQ(argv[0], "ssh");
  EXPECT_EQ(argv[1], "-o");
  EXPECT_EQ(argv[2], "ConnectTimeout=3");  // first value wins in ssh: the host's
  auto has = [&](const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
  };
  EXPECT_TRUE(has("BatchMode=yes"));
  EXPECT_TRUE(has("ConnectTimeout=10"));
  EXPECT_TRUE(has("ServerAliveInterval=15"));
  EXPECT_TRUE(has("ServerAliveCountMax=3"));
  EXPECT_TRUE(has("ControlMaster=auto"));
  EXPECT_TRUE(has("ControlPath=/run/x/ssh-0"));
  EXPECT_TRUE(has("2222"));
  EXPECT_TRUE(has("/keys/id"));
  EXPECT_THAT(std::vector<std::string>(argv.end() - 4, argv.end()),
              ElementsAre("-O", "check", "--", "jane@db.example.org"));
}

TEST(SshArgvTest, WithoutMultiplexingNoMasterAndNoControlPath) {
  Host h;
  h.ssh = "h";
  h.multiplex = false;
  std::vector<std::string> argv = SshArgv(h, "", {"-T"});
  auto has = [&](const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
  };
  EXPECT_TRUE(has("BatchMode=yes"));
  // Explicit, so that a ControlMaster/ControlPath in ~/.ssh/config does not apply either.
  EXPECT_TRUE(has("ControlMaster=no"));
  EXPECT_TRUE(has("ControlPath=none"));
  EXPECT_FALSE(has("ControlMaster=auto"));
  EXPECT_FALSE(has("ControlPersist=300"));
}

TEST(SshArgvTest, PercentInControlPathIsEscaped) {
  Host h;
  h.ssh = "h";
  std::vector<std::string> argv = SshArgv(h, "/tmp/a%b/ssh-0");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "ControlPath=/tmp/a%%b/ssh-0"), argv.end());
}

TEST(RemoteInvocationTest, EnvValuesTravelOnStdinOnly) {
  ProcessSpec spec;
  spec.argv = {"pg_dump", "jane"};
  spec.env = {{"PGPASSWORD", "hunter2-secret"}, {"WORKDIR", "/tmp/x"}};
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_THAT(inv->command, Not(HasSubstr("hunter2")));
  EXPECT_THAT(inv->command, Not(HasSubstr("/tmp/x")));
  EXPECT_THAT(inv->command, HasSubstr("PGPASSWORD="));
  EXPECT_THAT(inv->stdin_data, HasSubstr("hunter2-secret"));
  // One line per variable, then the empty line that lets the command start.
  EXPECT_EQ(std::count(inv->stdin_data.begin(), inv->stdin_data.end(), '\n'), 3);
  EXPECT_TRUE(inv->stdin_data.ends_with("\n\n"));
  EXPECT_EQ(inv->command.find('\n'), std::string::npos);  // one line for any login shell
}

TEST(RemoteInvocationTest, SudoPrefixBecomesTheOuterCommand) {
  ProcessSpec spec;
  spec.argv = {"sudo", "-n", "-u", "postgres", "--", "psql", "-c", "select 1"};
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->command.starts_with("exec sudo -n -u postgres -- /bin/sh -c ")) << inv->command;
  // Leftovers are killed as the same user.
  EXPECT_TRUE(inv->kill_leftovers.starts_with("exec sudo -n -u postgres -- /bin/sh -c "))
      << inv->kill_leftovers;
}

TEST(RemoteInvocationTest, RejectsBadEnvNameAndEmptyCommand) {
  ProcessSpec spec;
  spec.argv = {"true"};
  spec.env = {{"A-B", "x"}};
  EXPECT_EQ(BuildRemoteInvocation(spec).message(), "invalid environment variable name 'A-B'");
  spec.env.clear();
  spec.stdin_data = "x";
  EXPECT_EQ(BuildRemoteInvocation(spec).message(),
            "input for a command (stdin) is not supported on ssh hosts");
  spec.stdin_data.reset();
  spec.argv.clear();
  EXPECT_EQ(BuildRemoteInvocation(spec).message(), "empty command");
}

// The remote script run by a local sh: what sshd would run, minus ssh.
class RemoteScriptTest : public ::testing::Test {
 protected:
  ProcessResult RunLocally(const ProcessSpec& spec, const CancelToken& cancel = CancelToken()) {
    auto inv = BuildRemoteInvocation(spec);
    EXPECT_TRUE(inv.ok()) << inv.message();
    ProcessSpec local;
    local.argv = {"sh", "-c", inv->command};
    local.stdin_data = inv->stdin_data;
    local.keep_stdin_open = true;
    local.timeout = spec.timeout.count() ? spec.timeout : Duration(20s);
    local.kill_grace = spec.kill_grace;
    return runner_->Run(local, &sink_, cancel);
  }
  std::unique_ptr<ProcessRunner> runner_ = MakeSystemProcessRunner();
  OutErrSink sink_;
};

TEST_F(RemoteScriptTest, RunsArgvWithEnvAndCwdAndMarkers) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "pwd; printf '[%s]\\n' \"$A\" \"$B\" \"$C\" \"$1\"; exit 4", "sh",
               "it's $HOME *"};
  spec.env = {{"A", "two words"}, {"B", "multi\nline"}, {"C", "q'\"$`\\ end"}};
  spec.cwd = "/tmp";
  ProcessResult r = RunLocally(spec);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(sink_.out, ElementsAre("/tmp", "[two words]", "[multi", "line]", "[q'\"$`\\ end]",
                                     "[it's $HOME *]"));
  ASSERT_EQ(sink_.err.size(), 2u);
  EXPECT_THAT(sink_.err[0], StartsWith(std::string(kRemoteStartMarker)));
  EXPECT_EQ(sink_.err[1], std::string(kRemoteExitMarker) + "4");
}

TEST_F(RemoteScriptTest, EnvDoesNotChangeTheWrapperItself) {
  // A step's PATH or IFS applies to the command, not to the script that starts it.
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo \"$PATH\""};
  spec.env = {{"PATH", "/nowhere"}, {"IFS", "x"}};
  ProcessResult r = RunLocally(spec);
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("/nowhere"));
}

TEST_F(RemoteScriptTest, MissingDirectoryFails) {
  ProcessSpec spec;
  spec.argv = {"true"};
  spec.cwd = "/nonexistent/dir";
  ProcessResult r = RunLocally(spec);
  EXPECT_EQ(r.exit_code, 125);
  ASSERT_FALSE(sink_.err.empty());
  EXPECT_THAT(sink_.err[0], HasSubstr("/nonexistent/dir"));
}

// "MOUNT_ID:INODE" of an open fd of this process, as the remote script names its output pipes.
std::string PipeId(int fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key, value, mnt, ino;
  while (info >> key >> value) {
    if (key == "mnt_id:") mnt = value;
    if (key == "ino:") ino = value;
  }
  return mnt + ":" + ino;
}

TEST(KillLeftoversTest, KillsTheGroupOnlyWhenItHoldsTheOutput) {
  ProcessSpec spec;
  spec.argv = {"true"};
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string held = PipeId(fds[1]);
  ASSERT_NE(held, ":") << "this kernel's fdinfo has no ino";
  // A leftover: the leader of a group of its own, holding the pipe as its stdout.
  auto leftover = [&] {
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      dup2(fds[1], 1);
      execlp("sleep", "sleep", "30", nullptr);
      _exit(127);
    }
    return pid;
  };
  auto run = [&](pid_t group, const std::string& out, const std::string& err) {
    std::string cmd = inv->kill_leftovers + " " + std::to_string(group) + " " + out + " " + err;
    return std::system(("sh -c " + ShellQuote(cmd)).c_str());
  };
  pid_t quiet = leftover();
  pid_t holder = leftover();
  std::this_thread::sleep_for(200ms);  // both have dup2()ed and exec'd
  // Other pipes named: the group is left alone (a session merely slow to end).
  EXPECT_EQ(run(quiet, "1:1", "1:2"), 0);
  EXPECT_TRUE(StillAlive(quiet));
  EXPECT_EQ(run(holder, "1:1", held), 0);
  int status = 0;
  EXPECT_EQ(waitpid(holder, &status, 0), holder);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  kill(quiet, SIGKILL);
  waitpid(quiet, nullptr, 0);
  close(fds[0]);
  close(fds[1]);
}

TEST_F(RemoteScriptTest, CommandWaitsForTheEmptyLine) {
  // Without the input's last line (the engine died before its journal record was durable), the
  // command never starts.
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo ran"};
  spec.env = {{"A", "1"}};
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok());
  ProcessSpec local;
  local.argv = {"sh", "-c", inv->command};
  local.stdin_data = inv->stdin_data.substr(0, inv->stdin_data.size() - 1);
  local.timeout = 10s;
  ProcessResult r = runner_->Run(local, &sink_, CancelToken());
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(sink_.out.empty());
  EXPECT_TRUE(sink_.err.empty()) << sink_.err[0];  // no start marker either
}

TEST_F(RemoteScriptTest, EndOfInputKillsTheCommandGroup) {
  // The session's input ends 0.5 s in, as when sshd drops a session whose client went away.
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo $$; sleep 60 & echo $!; wait"};
  spec.kill_grace = 1s;
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok());
  ProcessSpec local;
  local.argv = {"sh", "-c", "(printf %s \"$DATA\"; sleep 0.5) | sh -c \"$CMD\""};
  local.env = {{"DATA", inv->stdin_data}, {"CMD", inv->command}};
  local.timeout = 10s;
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = runner_->Run(local, &sink_, CancelToken());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  ASSERT_EQ(sink_.out.size(), 2u);
  for (const std::string& pid : sink_.out) EXPECT_FALSE(StillAlive(std::stoi(pid))) << pid;
}

TEST_F(RemoteScriptTest, CommandRunsInTheReportedGroupAndDaemonsStay) {
  // The engine kills leftovers through the group of the start marker; a daemon that let go of
  // the output is not touched when the session's input ends after the script.
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 5 >/dev/null 2>&1 & echo $!"};
  ProcessResult r = RunLocally(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(sink_.out.size(), 1u);
  ASSERT_FALSE(sink_.err.empty());
  const pid_t daemon = std::stoi(sink_.out[0]);
  // "GROUP STDOUT STDERR"
  std::istringstream marker(sink_.err[0].substr(kRemoteStartMarker.size()));
  std::string group, out, err;
  marker >> group >> out >> err;
  EXPECT_EQ(std::to_string(getpgid(daemon)), group);
  EXPECT_THAT(out, ::testing::MatchesRegex("[0-9]+:[0-9]+"));
  EXPECT_THAT(err, ::testing::MatchesRegex("[0-9]+:[0-9]+"));
  EXPECT_NE(out, err);
  std::this_thread::sleep_for(300ms);  // the watcher has seen the end of input by now
  EXPECT_TRUE(StillAlive(daemon));
  kill(daemon, SIGKILL);
}

TEST_F(RemoteScriptTest, DetachedLeftoverIsLeftAlone) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "sleep 3 >/dev/null 2>&1 & echo $!"};
  ProcessResult r = RunLocally(spec);
  EXPECT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(sink_.out.size(), 1u);
  pid_t pid = std::stoi(sink_.out[0]);
  EXPECT_EQ(kill(pid, 0), 0);
  kill(pid, SIGKILL);
}

TEST(TunnelTest, Endpoints) {
  auto ep = [](const std::string& text) {
    auto c = ParseConninfo(text);
    EXPECT_TRUE(c.ok());
    auto e = TunnelEndpoint(*c);
    return e.ok() ? e->remote + " " + e->port : "error: " + e.message();
  };
  EXPECT_EQ(ep("dbname=jane"), "/var/run/postgresql/.s.PGSQL.5432 5432");
  EXPECT_EQ(ep("host=/tmp port=5433 dbname=jane"), "/tmp/.s.PGSQL.5433 5433");
  EXPECT_EQ(ep("host=db.internal dbname=jane"), "db.internal:5432 5432");
  EXPECT_EQ(ep("host=db hostaddr=10.0.0.5 port=6432"), "10.0.0.5:6432 6432");
  EXPECT_EQ(ep("host=::1"), "[::1]:5432 5432");
  EXPECT_EQ(ep("host=a,b"), "error: a tunnelled database must name one host, not a list");
}

TEST(TunnelTest, RewriteReplacesHostAndPort) {
  auto c = ParseConninfo("host=db hostaddr=10.0.0.5 port=6432 dbname=jane user=jane");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(FormatConninfo(RewriteConninfo(*c, "/run/r/pg0", "6432"), false),
            "user=jane dbname=jane host=/run/r/pg0 port=6432");
}

}  // namespace
}  // namespace runbook
