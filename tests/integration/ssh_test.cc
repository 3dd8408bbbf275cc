// The ssh hosts against a real sshd on a loopback port (tests/harness/sshd.sh) and, for tunnels, a
// throwaway PostgreSQL 15. The "remote" host is this machine, so remote processes are visible here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pg_conninfo.h"
#include "engine/process.h"
#include "engine/ssh_hosts.h"
#include "tests/support/out_err_sink.h"
#include "tests/support/proc_util.h"

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::OutErrSink;
using ::testing::StartsWith;
using namespace std::chrono_literals;

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  return mkdtemp(tmpl.data()) ? tmpl : "";
}

std::string Harness() {
  return std::string(RUNBOOK_SOURCE_DIR) + "/tests/harness/sshd.sh";
}

// Every process whose command line holds `needle` (read from /proc, like ps -eo args).
std::vector<pid_t> ProcessesWithArgs(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string args = runbook::testing::ReadProcFile(entry.path() / "cmdline");
    std::replace(args.begin(), args.end(), '\0', ' ');  // NUL-separated words, as ps shows them
    if (args.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

// Polls up to `limit` for no process (zombies aside) to have `needle` in its arguments: the
// sleep itself, and the local ssh and remote shells whose command lines hold it. Generous, for
// loaded machines; the sleeps it looks for last over a minute.
bool NoneLeft(const std::string& needle, std::chrono::milliseconds limit = 10000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    bool any = false;
    for (pid_t pid : ProcessesWithArgs(needle)) {
      if (runbook::testing::IsLiveProcess(pid)) any = true;
    }
    if (!any) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(50ms);
  }
}

// A before_input hook that counts its calls.
std::function<Status()> CountCalls(int* calls) {
  return [calls] {
    ++*calls;
    return Status::Ok();
  };
}

// A unique number: `sleep 61.TOKEN` is then this test's own sleep, short-lived if it leaks.
std::string Token() {
  static std::mt19937_64 rng(std::random_device{}());
  return std::to_string(rng() % 1000000000);
}

class SshTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("runbook-sshd"));
    port_ = FreePort();
    std::string cmd = Harness() + " start " + *dir_ + " " + std::to_string(port_) + " " +
                      std::to_string(getpid());
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    host_ = new Host;
    host_->name = "loop";
    host_->ssh = std::string(getpwuid(getuid())->pw_name) + "@127.0.0.1";
    host_->port = port_;
    host_->identity_file = *dir_ + "/id_ed25519";
    std::ifstream options(*dir_ + "/ssh_options");
    for (std::string line; std::getline(options, line);) host_->options.push_back(line);
  }
  static void TearDownTestSuite() {
    std::system((Harness() + " stop " + *dir_).c_str());
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete host_;
  }

  void SetUp() override {
    run_dir_ = MakeTempDir("runbook-run");
    hosts_ = MakeSshHosts(run_dir_, runner_.get());
  }
  void TearDown() override {
    hosts_.reset();
    std::filesystem::remove_all(run_dir_);
  }

  ProcessResult Run(ProcessSpec spec, const CancelToken& cancel = CancelToken()) {
    if (spec.timeout.count() == 0) spec.timeout = 30s;
    return hosts_->Run(*host_, spec, &sink_, cancel);
  }

  // Tunnel() for conninfo text, the result written back as text.
  Result<std::string> Tunnel(const Host& host, const std::string& conninfo) {
    auto parsed = ParseConninfo(conninfo);
    if (!parsed.ok()) return Result<std::string>::Error(parsed.message());
    auto local = hosts_->Tunnel(host, *parsed);
    if (!local.ok()) return Result<std::string>::Error(local.message());
    return FormatConninfo(*local, /*mask_password=*/false);
  }

  static ProcessSpec Shell(const std::string& script) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    return spec;
  }

  static std::string* dir_;
  static int port_;
  static Host* host_;
  std::unique_ptr<ProcessRunner> runner_ = MakeSystemProcessRunner();
  std::string run_dir_;
  std::unique_ptr<RemoteHosts> hosts_;
  OutErrSink sink_;
};

std::string* SshTest::dir_ = nullptr;
int SshTest::port_ = 0;
Host* SshTest::host_ = nullptr;

TEST_F(SshTest, OutputAndExitCodesRoundTrip) {
  ProcessResult r = Run(Shell("echo out1; echo err1 >&2; echo out2; exit 7"));
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.connection_failed);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.Describe(), "exit 7");
  EXPECT_THAT(sink_.out, ElementsAre("out1", "out2"));
  EXPECT_THAT(sink_.err, ElementsAre("err1"));  // the markers are not output
  OutErrSink second;
  ProcessResult ok = hosts_->Run(*host_, Shell("echo again"), &second, CancelToken());
  EXPECT_TRUE(ok.ok()) << ok.Describe();
  EXPECT_THAT(second.out, ElementsAre("again"));
}

TEST_F(SshTest, RemoteExit255IsNotAConnectionFailure) {
  ProcessResult r = Run(Shell("echo bye >&2; exit 255"));
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_FALSE(r.connection_failed);
  EXPECT_EQ(r.Describe(), "exit 255");
}

TEST_F(SshTest, ArgvWordsArriveIntact) {
  ProcessSpec spec;
  spec.argv = {"printf", "%s|", "two words", "it's", "$HOME", "*", "a\nb", ""};
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("two words|it's|$HOME|*|a", "b||"));
}

TEST_F(SshTest, CwdEnvAndUser) {
  ProcessSpec spec = Shell("pwd; printf '[%s]\\n' \"$A\" \"$B\"; id -un");
  spec.cwd = "/tmp";
  spec.env = {{"A", "x y"}, {"B", "q'\"$`\\"}};
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out,
              ElementsAre("/tmp", "[x y]", "[q'\"$`\\]", std::string(getpwuid(getuid())->pw_name)));

  if (getuid() != 0) GTEST_SKIP() << "sudo to another user needs root here";
  OutErrSink as_user;
  spec.argv.insert(spec.argv.begin(), {"sudo", "-n", "-u", "nobody", "--"});
  r = hosts_->Run(*host_, spec, &as_user, CancelToken());
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(as_user.out, ElementsAre("/tmp", "[x y]", "[q'\"$`\\]", "nobody"));
}

TEST_F(SshTest, TimeoutLeavesNoRemoteProcess) {
  std::string token = Token();
  ProcessSpec spec = Shell("sleep 61." + token + " & echo started; sleep 62." + token + "; wait");
  spec.timeout = 3s;
  spec.kill_grace = 1s;
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = Run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 8s);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.connection_failed);
  EXPECT_EQ(r.Describe(), "timed out after 3s (killed)");
  ASSERT_THAT(sink_.out, ElementsAre("started"));  // the remote tree was there to kill
  EXPECT_TRUE(NoneLeft("sleep 61." + token)) << "remote background sleep survived";
  EXPECT_TRUE(NoneLeft("sleep 62." + token)) << "remote sleep survived";
}

TEST_F(SshTest, TimeoutOfACommandIgnoringTermEscalates) {
  std::string token = Token();
  ProcessSpec spec = Shell("trap '' TERM; echo started; sleep 63." + token);
  spec.timeout = 3s;
  spec.kill_grace = 1s;
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.timed_out);
  ASSERT_THAT(sink_.out, ElementsAre("started"));
  EXPECT_TRUE(NoneLeft("sleep 63." + token)) << "remote sleep survived SIGKILL escalation";
}

TEST_F(SshTest, CancelLeavesNoRemoteProcess) {
  std::string token = Token();
  std::atomic<bool> flag{false};
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    sink_.WaitFor("started");
    cancelled_at = std::chrono::steady_clock::now();
    flag = true;
  });
  ProcessResult r = Run(Shell("echo started; sleep 64." + token + " & wait"), CancelToken(&flag));
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 3s);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.connection_failed);
  EXPECT_EQ(r.Describe(), "cancelled (killed)");
  EXPECT_THAT(sink_.out, ElementsAre("started"));
  EXPECT_TRUE(NoneLeft("sleep 64." + token)) << "remote sleep survived the cancel";
}

TEST_F(SshTest, SecretNeverInArgvNorOutput) {
  std::string secret = "s3cr3t-" + Token() + "-value";
  ProcessSpec spec =
      Shell("sleep 2; echo \"token=$TOKEN\"; echo \"len=${#TOKEN}\"; echo \"$TOKEN\" >&2");
  spec.env = {{"TOKEN", secret}};
  spec.redact = {secret};
  std::atomic<bool> done{false};
  std::atomic<int> polls{0};
  std::vector<pid_t> seen;
  std::thread watcher([&] {
    while (!done) {
      for (pid_t p : ProcessesWithArgs(secret)) seen.push_back(p);
      ++polls;
      std::this_thread::sleep_for(20ms);
    }
  });
  ProcessResult r = Run(spec);
  done = true;
  watcher.join();
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_GT(polls, 20);
  EXPECT_TRUE(seen.empty()) << "the secret was in the arguments of pid " << seen.front();
  EXPECT_THAT(sink_.out, ElementsAre("token=***", "len=" + std::to_string(secret.size())));
  EXPECT_THAT(sink_.err, ElementsAre("***"));
}

TEST_F(SshTest, ParallelRunsShareTheHost) {
  constexpr int kThreads = 6;
  std::vector<OutErrSink> sinks(kThreads);
  std::vector<ProcessResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ProcessSpec spec = Shell("echo \"n=$N\"");
      spec.env = {{"N", std::to_string(i)}};
      spec.timeout = 30s;
      results[i] = hosts_->Run(*host_, spec, &sinks[i], CancelToken());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i].Describe();
    EXPECT_THAT(sinks[i].out, ElementsAre("n=" + std::to_string(i)));
    EXPECT_TRUE(sinks[i].err.empty()) << sinks[i].err.front();
  }
}

TEST_F(SshTest, BackgroundLeftoverDoesNotHang) {
  // Compared with the same step without the leftover: this machine may be slow.
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Run(Shell("echo early")).ok());
  auto baseline = std::chrono::steady_clock::now() - start;
  sink_.out.clear();
  std::string token = Token();
  start = std::chrono::steady_clock::now();
  ProcessResult r = Run(Shell("(sleep 65." + token + "; echo late) & echo early"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, baseline + 4s);
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("early"));
  EXPECT_TRUE(NoneLeft("sleep 65." + token)) << "the leftover holding the output survived";
}

TEST_F(SshTest, DaemonThatLetGoOfTheOutputIsLeftAlone) {
  std::string token = Token();
  ProcessResult r = Run(Shell("sleep 66." + token + " >/dev/null 2>&1 & echo started"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  std::this_thread::sleep_for(1s);  // past the leftover grace, and the watcher's end of input
  std::vector<pid_t> left = ProcessesWithArgs("sleep 66." + token);
  EXPECT_EQ(left.size(), 1u) << "the daemon was killed";
  for (pid_t p : left) kill(p, SIGKILL);
}

TEST_F(SshTest, UnreachableHostFailsWithSshMessage) {
  Host closed = *host_;
  closed.port = FreePort();  // nothing listens there
  ProcessResult r = hosts_->Run(closed, Shell("true"), &sink_, CancelToken());
  EXPECT_TRUE(r.connection_failed);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_THAT(r.error, HasSubstr("Connection refused"));
  EXPECT_THAT(r.Describe(), StartsWith("connection failed: ssh: connect to host 127.0.0.1 port "));

  Status st = hosts_->CheckReachable(closed);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("Connection refused"));
  EXPECT_TRUE(hosts_->CheckReachable(*host_).ok());
}

TEST_F(SshTest, RejectedLoginIsAConnectionFailure) {
  Host stranger = *host_;
  stranger.ssh = "no-such-user-rb@127.0.0.1";
  ProcessResult r = hosts_->Run(stranger, Shell("true"), &sink_, CancelToken());
  EXPECT_TRUE(r.connection_failed);
  EXPECT_EQ(r.Describe(),
            "connection failed: no-such-user-rb@127.0.0.1: Permission denied (publickey).");
  EXPECT_TRUE(sink_.out.empty());
}

TEST_F(SshTest, CloseAllEndsTheMaster) {
  ASSERT_TRUE(hosts_->CheckReachable(*host_).ok());
  std::string control = run_dir_ + "/ssh-0";
  ASSERT_TRUE(std::filesystem::exists(control));
  hosts_->CloseAll();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(std::filesystem::exists(control));
  EXPECT_TRUE(ProcessesWithArgs(control + " [mux]").empty());
}

// Logins the sshd accepted so far (its log, LogLevel VERBOSE).
int AcceptedLogins(const std::string& sshd_dir) {
  std::ifstream log(sshd_dir + "/sshd.log");
  int n = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find("Accepted publickey") != std::string::npos) ++n;
  }
  return n;
}

TEST_F(SshTest, WithoutMultiplexingEachCommandConnects) {
  Host single = *host_;
  single.multiplex = false;
  const int before = AcceptedLogins(*dir_);
  ProcessResult r = hosts_->Run(single, Shell("echo one"), &sink_, CancelToken());
  ASSERT_TRUE(r.ok()) << r.Describe();
  r = hosts_->Run(single, Shell("echo two; exit 255"), &sink_, CancelToken());
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_FALSE(r.connection_failed);
  EXPECT_THAT(sink_.out, ElementsAre("one", "two"));
  // Each of the two logged in (sshd logs the login before the command ends); no master, no socket.
  EXPECT_EQ(AcceptedLogins(*dir_) - before, 2);
  EXPECT_TRUE(std::filesystem::is_empty(run_dir_));
  EXPECT_TRUE(hosts_->CheckReachable(single).ok());
  EXPECT_TRUE(std::filesystem::is_empty(run_dir_));

  Host closed = single;
  closed.port = FreePort();
  r = hosts_->Run(closed, Shell("true"), &sink_, CancelToken());
  EXPECT_TRUE(r.connection_failed);
  EXPECT_THAT(r.error, HasSubstr("Connection refused"));
  auto tunnel = Tunnel(single, "host=/tmp port=5432 dbname=x");
  EXPECT_FALSE(tunnel.ok());
  EXPECT_THAT(tunnel.message(), HasSubstr("multiplex: false"));
}

TEST_F(SshTest, MultiplexedCommandsShareOneLogin) {
  const int before = AcceptedLogins(*dir_);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Run(Shell("true")).ok());
  EXPECT_EQ(AcceptedLogins(*dir_) - before, 1);
}

TEST_F(SshTest, RunDirWithSpacesFallsBackToAPrivateDirectory) {
  std::string spaced = run_dir_ + "/a b";
  std::filesystem::create_directories(spaced);
  auto hosts = MakeSshHosts(spaced, runner_.get());
  OutErrSink sink;
  ProcessResult r = hosts->Run(*host_, Shell("echo spaced"), &sink, CancelToken());
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink.out, ElementsAre("spaced"));
  EXPECT_TRUE(std::filesystem::is_empty(spaced));
}

TEST_F(SshTest, LongRunDirFallsBackToAShortSocketDirectory) {
  std::string deep = run_dir_ + "/" + std::string(90, 'd');
  std::filesystem::create_directories(deep);
  auto hosts = MakeSshHosts(deep, runner_.get());
  OutErrSink sink;
  ProcessResult r = hosts->Run(*host_, Shell("echo deep"), &sink, CancelToken());
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink.out, ElementsAre("deep"));
  EXPECT_TRUE(std::filesystem::is_empty(deep));
}

// The master's pid (its process title names the control socket), or 0.
pid_t MasterOf(const std::string& control) {
  std::vector<pid_t> masters = ProcessesWithArgs(control + " [mux]");
  return masters.empty() ? 0 : masters.front();
}

TEST_F(SshTest, RemoteCommandWaitsForBeforeInput) {
  // The remote host is this machine: the command looks for the file the hook creates, which it
  // finds only if it starts after the hook returned (a remote step's journal record is durable).
  const std::string flag = run_dir_ + "/durable";
  ProcessSpec spec = Shell("test -e " + flag + " && echo after || echo before");
  spec.before_input = [&flag] {
    std::this_thread::sleep_for(1s);
    std::ofstream(flag).put('x');
    return Status::Ok();
  };
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("after"));

  // A hook that fails stops the step before its command starts.
  sink_.out.clear();
  const std::string never = run_dir_ + "/never";
  ProcessSpec failing = Shell("touch " + never + "; echo ran");
  failing.before_input = [] { return Status::Error("journal: disk full"); };
  r = Run(failing);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("disk full"));
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(std::filesystem::exists(never));
  EXPECT_TRUE(sink_.out.empty());
}

TEST_F(SshTest, LargeEnvironmentValueArrives) {
  // More than a pipe's buffer: the session's input is written as the master takes it.
  ProcessSpec spec = Shell("echo ${#BIG}");
  spec.env = {{"BIG", std::string(300000, 'x')}};
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("300000"));
}

TEST_F(SshTest, MasterKilledMidStepIsAConnectionFailure) {
  ASSERT_TRUE(Run(Shell("true")).ok());
  pid_t master = MasterOf(run_dir_ + "/ssh-0");
  ASSERT_GT(master, 0);
  std::string token = Token();
  std::thread killer([&] {
    if (sink_.WaitFor("started")) kill(master, SIGKILL);
  });
  ProcessResult r = Run(Shell("echo started; sleep 68." + token));
  killer.join();
  EXPECT_TRUE(r.connection_failed);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_THAT(r.Describe(),
              StartsWith("connection failed: connection to " + host_->ssh + " lost: "));
  EXPECT_TRUE(NoneLeft("sleep 68." + token)) << "the remote command outlived its connection";

  // The next step opens a new master.
  OutErrSink next;
  ProcessResult again = hosts_->Run(*host_, Shell("echo again"), &next, CancelToken());
  EXPECT_TRUE(again.ok()) << again.Describe();
  EXPECT_THAT(next.out, ElementsAre("again"));
  EXPECT_NE(MasterOf(run_dir_ + "/ssh-0"), 0);
}

TEST_F(SshTest, MasterGoneBetweenStepsIsReopened) {
  ASSERT_TRUE(Run(Shell("true")).ok());
  pid_t master = MasterOf(run_dir_ + "/ssh-0");
  ASSERT_GT(master, 0);
  kill(master, SIGKILL);
  for (int i = 0; i < 100 && runbook::testing::IsLiveProcess(master); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ProcessSpec spec = Shell("echo \"back=$V\"");
  spec.env = {{"V", "1"}};
  int calls = 0;
  spec.before_input = CountCalls(&calls);
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("back=1"));
  EXPECT_EQ(calls, 1);
  pid_t reopened = MasterOf(run_dir_ + "/ssh-0");
  EXPECT_NE(reopened, 0);
  EXPECT_NE(reopened, master);
}

// An sshd that lets a connection have one session at a time (MaxSessions 1).
class SshOneSessionTest : public SshTest {
 protected:
  static void SetUpTestSuite() {
    setenv("SSHD_MAX_SESSIONS", "1", 1);
    SshTest::SetUpTestSuite();
    unsetenv("SSHD_MAX_SESSIONS");
  }
};

int CountInFile(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

TEST_F(SshOneSessionTest, ASessionTheMasterCannotOpenRunsOnAConnectionOfItsOwn) {
  ASSERT_TRUE(Run(Shell("true")).ok());  // the master is open
  ASSERT_EQ(CountInFile(*dir_ + "/sshd.log", "Accepted publickey"), 1);
  // The first step holds the master's one session; the server refuses the second's, the master
  // passes the refusal on, and the ssh client connects on its own instead.
  std::string token = Token();
  OutErrSink first_sink;
  ProcessResult first;
  std::thread holder([&] {
    ProcessSpec spec = Shell("echo started; sleep 2; : " + token + "; echo first");
    spec.timeout = 30s;
    first = hosts_->Run(*host_, spec, &first_sink, CancelToken());
  });
  ASSERT_TRUE(first_sink.WaitFor("started"));
  ProcessSpec spec = Shell("echo \"second=$V\"");
  spec.env = {{"V", "2"}};
  int calls = 0;
  spec.before_input = CountCalls(&calls);
  ProcessResult second = Run(spec);
  holder.join();
  ASSERT_TRUE(second.ok()) << second.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("second=2"));
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(first.ok()) << first.Describe();
  EXPECT_THAT(first_sink.out, ElementsAre("started", "first"));
  // The second step logged in on a connection of its own.
  EXPECT_EQ(CountInFile(*dir_ + "/sshd.log", "Accepted publickey"), 2);
}

// A throwaway PostgreSQL 15 listening only on a unix socket, reached through an ssh tunnel.
class SshTunnelTest : public SshTest {
 protected:
  static void SetUpTestSuite() {
    SshTest::SetUpTestSuite();
    if (getuid() != 0) return;  // initdb runs as `postgres` through runuser
    pg_dir_ = new std::string(MakeTempDir("runbook-pg"));
    pg_port_ = FreePort();
    std::string bin = "/usr/lib/postgresql/15/bin";
    std::string cmd = "chown postgres " + *pg_dir_ + " && runuser -u postgres -- " + bin +
                      "/initdb -D " + *pg_dir_ + "/data -U postgres --auth=trust >/dev/null && " +
                      "runuser -u postgres -- " + bin + "/pg_ctl -D " + *pg_dir_ + "/data -l " +
                      *pg_dir_ + "/log -w -o \"-k " + *pg_dir_ + " -p " + std::to_string(pg_port_) +
                      " -c listen_addresses=''\" start >/dev/null";
    pg_started_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    if (pg_dir_ != nullptr) {
      std::system(("runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D " + *pg_dir_ +
                   "/data -m immediate stop >/dev/null")
                      .c_str());
      std::filesystem::remove_all(*pg_dir_);
      delete pg_dir_;
      pg_dir_ = nullptr;
    }
    SshTest::TearDownTestSuite();
  }
  void SetUp() override {
    if (getuid() != 0) GTEST_SKIP() << "needs root to run PostgreSQL as postgres";
    ASSERT_TRUE(pg_started_) << "PostgreSQL did not start; see " << *pg_dir_ << "/log";
    SshTest::SetUp();
  }

  ProcessResult Psql(const std::string& conninfo, const std::string& sql, OutErrSink* sink) {
    ProcessSpec spec;
    spec.argv = {"psql", "-X", "-At", "-d", conninfo, "-c", sql};
    spec.timeout = 20s;
    return runner_->Run(spec, sink, CancelToken());
  }

  static std::string* pg_dir_;
  static int pg_port_;
  static bool pg_started_;
};

std::string* SshTunnelTest::pg_dir_ = nullptr;
int SshTunnelTest::pg_port_ = 0;
bool SshTunnelTest::pg_started_ = false;

TEST_F(SshTunnelTest, QueriesThroughTheTunnel) {
  // sslmode=require as a production conninfo would say: libpq does not try SSL on the local
  // socket, and ssh encrypts the way.
  std::string remote =
      "host=" + *pg_dir_ + " port=" + std::to_string(pg_port_) +
      " dbname=postgres user=postgres application_name='runbook test' sslmode=require";
  auto local = Tunnel(*host_, remote);
  ASSERT_TRUE(local.ok()) << local.message();
  EXPECT_THAT(*local, HasSubstr("host=" + run_dir_ + "/pg0"));
  EXPECT_THAT(*local, HasSubstr("application_name='runbook test'"));
  EXPECT_THAT(*local, Not(HasSubstr(*pg_dir_)));

  OutErrSink sink;
  ProcessResult r = Psql(*local, "select 40 + 2", &sink);
  ASSERT_TRUE(r.ok()) << r.Describe() << " " << (sink.err.empty() ? "" : sink.err.front());
  EXPECT_THAT(sink.out, ElementsAre("42"));

  // The second call reuses the forward.
  auto again = Tunnel(*host_, remote);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*again, *local);
  OutErrSink sink2;
  EXPECT_TRUE(Psql(*again, "select 1", &sink2).ok());

  // After CloseAll the forward is gone.
  hosts_->CloseAll();
  OutErrSink sink3;
  EXPECT_FALSE(Psql(*local, "select 1", &sink3).ok());
}

TEST_F(SshTunnelTest, MasterRestartedIsForwardedAgain) {
  std::string remote =
      "host=" + *pg_dir_ + " port=" + std::to_string(pg_port_) + " dbname=postgres user=postgres";
  auto local = Tunnel(*host_, remote);
  ASSERT_TRUE(local.ok()) << local.message();
  // The master goes away behind our back (idle timeout, network): the next Tunnel reopens it.
  std::vector<std::string> exit_argv = SshArgv(*host_, run_dir_ + "/ssh-0", {"-O", "exit"});
  ProcessSpec exit_spec;
  exit_spec.argv = exit_argv;
  OutErrSink ignored;
  ASSERT_TRUE(runner_->Run(exit_spec, &ignored, CancelToken()).ok());
  std::this_thread::sleep_for(200ms);
  auto again = Tunnel(*host_, remote);
  ASSERT_TRUE(again.ok()) << again.message();
  OutErrSink sink;
  ProcessResult r = Psql(*again, "select 7", &sink);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink.out, ElementsAre("7"));
}

TEST_F(SshTunnelTest, ConninfoAsAUri) {
  auto local = Tunnel(*host_, "postgresql://postgres@/postgres?host=" + *pg_dir_ +
                                  "&port=" + std::to_string(pg_port_));
  ASSERT_TRUE(local.ok()) << local.message();
  OutErrSink sink;
  ProcessResult r = Psql(*local, "select 6 * 7", &sink);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink.out, ElementsAre("42"));
}

TEST_F(SshTunnelTest, UnknownRemoteSocketFailsOnConnect) {
  auto local = Tunnel(*host_, "host=/nonexistent port=5432 dbname=postgres user=postgres");
  ASSERT_TRUE(local.ok()) << local.message();  // ssh forwards lazily: the error comes on connect
  OutErrSink sink;
  EXPECT_FALSE(Psql(*local, "select 1", &sink).ok());
}

}  // namespace
}  // namespace runbook
