// Tests of the lock on ssh hosts that need no sshd: the holder's line, the replies, the hosts a
// runbook uses, and the lock script run by a local sh inside the remote wrapper (what sshd would
// run, minus ssh). tests/e2e/host_lock.sh runs it against a real sshd.
#include "engine/host_lock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/parse.h"
#include "engine/ssh_hosts.h"
#include "engine/target_lock.h"
#include "steps/registry.h"

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace std::chrono_literals;

TEST(HostLockTest, TheHolderLineDescribesTheHolder) {
  const std::string line = HostLockHolderLine("20261207T150001Z-3fa9", 4242,
                                              "2026-12-07T15:00:01.123Z", "alice", "laptop1");
  EXPECT_EQ(line, "runbook/20261207T150001Z-3fa9 lock 4242 2026-12-07T15:00:01.123Z alice@laptop1");
  EXPECT_EQ(DescribeHostLockHolder(line),
            "alice@laptop1 (pid 4242, run 20261207T150001Z-3fa9, since 2026-12-07T15:00:01.123Z)");
  // A user without a name is "uid N"; a control character cannot break the line.
  EXPECT_EQ(DescribeHostLockHolder(HostLockHolderLine("r", 1, "t", "uid 1000", "h\nx")),
            "uid 1000@h?x (pid 1, run r, since t)");
}

TEST(HostLockTest, OtherContentIsShownAsTheFileHasIt) {
  EXPECT_EQ(DescribeHostLockHolder("someone else\x1b[2J"),
            "'someone else\\x1b[2J' (as the lock file says)");
  EXPECT_THAT(DescribeHostLockHolder(""), HasSubstr("has not written its name"));
}

TEST(HostLockTest, RepliesAreMarkedLines) {
  const std::string r(kHostLockReply);
  HostLockReply held = ParseHostLockReply(r + "held 4242");
  EXPECT_EQ(held.kind, HostLockReply::Kind::kHeld);
  EXPECT_EQ(held.text, "4242");
  // The pid becomes an argument of kill on the host: only digits.
  EXPECT_EQ(ParseHostLockReply(r + "held").kind, HostLockReply::Kind::kNone);
  EXPECT_EQ(ParseHostLockReply(r + "held -1").kind, HostLockReply::Kind::kNone);
  HostLockReply busy = ParseHostLockReply(r + "busy runbook/x lock 1 t a@b");
  EXPECT_EQ(busy.kind, HostLockReply::Kind::kBusy);
  EXPECT_EQ(busy.text, "runbook/x lock 1 t a@b");
  EXPECT_EQ(ParseHostLockReply(r + "busy ").kind, HostLockReply::Kind::kBusy);
  HostLockReply unsupported = ParseHostLockReply(r + "unsupported no flock");
  EXPECT_EQ(unsupported.kind, HostLockReply::Kind::kUnsupported);
  EXPECT_EQ(unsupported.text, "no flock");
  // A step's output cannot pass for a reply: the marker starts with a control character.
  EXPECT_EQ(ParseHostLockReply("runbook:lock held").kind, HostLockReply::Kind::kNone);
  EXPECT_EQ(ParseHostLockReply(r + "held too").kind, HostLockReply::Kind::kNone);
  EXPECT_EQ(ParseHostLockReply(r + "other").kind, HostLockReply::Kind::kNone);
}

TEST(HostLockTest, TheNameAndTheHolderAreDataNotScript) {
  const std::string holder = "runbook/r lock 1 t o'brien@$(reboot)";
  ProcessSpec spec = HostLockSpec("jane-dev", holder);
  ASSERT_EQ(spec.argv.size(), 5u);
  EXPECT_EQ(spec.argv[4], "jane-dev");
  EXPECT_THAT(spec.argv[2], Not(HasSubstr("jane-dev")));
  ASSERT_EQ(spec.env.size(), 1u);
  EXPECT_EQ(spec.env[0].second, holder);
  auto inv = BuildRemoteInvocation(spec);
  ASSERT_TRUE(inv.ok()) << inv.message();
  EXPECT_THAT(inv->command, Not(HasSubstr("reboot")));  // the holder travels on the input
  EXPECT_THAT(inv->stdin_data, HasSubstr("reboot"));
}

TEST(HostLockTest, UsedSshHostsAreThoseStepsGuardsAndDefaultsRunOn) {
  Diagnostics d;
  std::optional<Runbook> rb = ParseRunbook("rb.yaml", R"(name: a
hosts:
  unused: {ssh: u.example.org}
  guarded: {ssh: g.example.org}
  stepped: {ssh: s.example.org}
  final: {ssh: f.example.org}
  here: {local: true}
steps:
  - id: s
    host: stepped
    guards:
      - command: {run: "true", host: guarded}
    run: "true"
  - id: l
    host: here
    run: "true"
finally:
  - id: f
    host: final
    run: "true"
)",
                                           BuiltinKinds(), &d);
  ASSERT_TRUE(rb && d.ok());
  std::vector<std::string> names;
  for (const Host* h : UsedSshHosts(*rb)) names.push_back(h->name);
  EXPECT_THAT(names, ElementsAre("guarded", "stepped", "final"));
}

// Runs the remote invocation with a local sh, as sshd would; `Host::ssh` names the HOME the
// "host" has ("down": it cannot be reached).
class LocalHosts : public RemoteHosts {
 public:
  ProcessResult Run(const Host& host, const ProcessSpec& spec, OutputSink* out,
                    const CancelToken& cancel) override {
    if (host.ssh == "down") {
      ProcessResult r;
      r.started = true;
      r.exit_code = 255;
      r.connection_failed = true;
      r.error = "ssh: connect to host down port 22: Connection refused";
      return r;
    }
    auto inv = BuildRemoteInvocation(spec);
    EXPECT_TRUE(inv.ok()) << inv.message();
    ProcessSpec local;
    local.argv = {"/bin/sh", "-c", inv->command};
    local.stdin_data = inv->stdin_data;
    local.keep_stdin_open = true;
    local.kill_grace = spec.kill_grace;
    local.env = {{"HOME", host.ssh}};
    if (!path.empty()) local.env.emplace_back("PATH", path);
    return runner_->Run(local, out, cancel);
  }
  Result<Conninfo> Tunnel(const Host&, const Conninfo&) override {
    return Result<Conninfo>::Error("no tunnels here");
  }
  Status CheckReachable(const Host&) override { return Status::Ok(); }
  void CloseAll() override {}
  std::string path;  // the PATH the "hosts" have; empty: ours

 private:
  std::unique_ptr<ProcessRunner> runner_ = MakeSystemProcessRunner();
};

class HostLockScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/host-lock-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ + "/home1");
    std::filesystem::create_directory(dir_ + "/home2");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Host MakeHost(const std::string& name, const std::string& home) {
    Host h;
    h.name = name;
    h.ssh = home;
    return h;
  }
  HostLockAttempt Acquire(const std::string& lock, const std::vector<const Host*>& hosts,
                          const std::string& holder) {
    return AcquireHostLocks(&remote_, lock, hosts, holder, CancelToken());
  }
  static std::unique_ptr<HostLocks> Held(HostLockAttempt a) {
    if (auto* busy = std::get_if<HostLocksBusy>(&a)) {
      ADD_FAILURE() << "busy: " << busy->host << " held by " << busy->holder;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<HostLocks>>(a));
  }
  std::string FileOf(const std::string& home, const std::string& lock) {
    std::ifstream in(home + "/.cache/runbook/locks/" + lock + ".lock");
    std::string line;
    std::getline(in, line);
    return line;
  }

  std::string dir_;
  LocalHosts remote_;
  const std::string alice_ = HostLockHolderLine("r1", 11, "t1", "alice", "laptop1");
  const std::string bob_ = HostLockHolderLine("r2", 22, "t2", "bob", "laptop2");
};

TEST_F(HostLockScriptTest, ASecondHolderIsRefusedUntilTheFirstEnds) {
  const Host a = MakeHost("a", dir_ + "/home1");
  auto first = Held(Acquire("jane-dev", {&a}, alice_));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->hosts(), 1u);
  EXPECT_THAT(first->not_locked, IsEmpty());
  EXPECT_EQ(FileOf(dir_ + "/home1", "jane-dev"), alice_);
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/home1/.cache/runbook/locks").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  HostLockAttempt second = Acquire("jane-dev", {&a}, bob_);
  auto* busy = std::get_if<HostLocksBusy>(&second);
  ASSERT_NE(busy, nullptr);
  EXPECT_EQ(busy->host, "a");
  EXPECT_EQ(busy->holder, "alice@laptop1 (pid 11, run r1, since t1)");

  // Another lock name is another lock.
  EXPECT_TRUE(Held(Acquire("other", {&a}, bob_)));

  first.reset();
  EXPECT_EQ(FileOf(dir_ + "/home1", "jane-dev"), "");  // emptied by its holder on the way out
  auto third = Held(Acquire("jane-dev", {&a}, bob_));
  ASSERT_TRUE(third);
  EXPECT_EQ(FileOf(dir_ + "/home1", "jane-dev"), bob_);
}

TEST_F(HostLockScriptTest, OneMachineUnderTwoNamesIsLockedOnce) {
  const Host a = MakeHost("a", dir_ + "/home1");
  const Host again = MakeHost("a-by-address", dir_ + "/home1");
  const Host b = MakeHost("b", dir_ + "/home2");
  auto locks = Held(Acquire("jane-dev", {&a, &again, &b}, alice_));
  ASSERT_TRUE(locks);
  EXPECT_EQ(locks->hosts(), 2u);
  EXPECT_THAT(locks->not_locked, IsEmpty());
}

TEST_F(HostLockScriptTest, AllOrNothing) {
  const Host a = MakeHost("a", dir_ + "/home1");
  const Host b = MakeHost("b", dir_ + "/home2");
  auto bobs = Held(Acquire("jane-dev", {&b}, bob_));
  ASSERT_TRUE(bobs);
  HostLockAttempt refused = Acquire("jane-dev", {&a, &b}, alice_);
  ASSERT_TRUE(std::holds_alternative<HostLocksBusy>(refused));
  // The lock alice took on a before b refused her is released.
  EXPECT_TRUE(Held(Acquire("jane-dev", {&a}, HostLockHolderLine("r3", 33, "t3", "carol", "x"))));
}

TEST_F(HostLockScriptTest, HostsThatCannotBeLockedAreListed) {
  const Host down = MakeHost("down", "down");
  const Host no_home = MakeHost("nohome", "/dev/null");
  auto locks = Held(Acquire("jane-dev", {&down, &no_home}, alice_));
  ASSERT_TRUE(locks);
  EXPECT_EQ(locks->hosts(), 0u);
  EXPECT_THAT(
      locks->not_locked,
      ElementsAre("host down: ssh: connect to host down port 22: Connection refused",
                  "host nohome: cannot create /dev/null/.cache/runbook/locks/jane-dev.lock"));
}

TEST_F(HostLockScriptTest, AHostWithoutFlockIsListed) {
  // A PATH with what the script needs but flock.
  const std::string bin = dir_ + "/bin";
  std::filesystem::create_directory(bin);
  for (const char* tool : {"mkdir", "sleep"}) {
    std::filesystem::create_symlink(std::string("/bin/") + tool, bin + "/" + tool);
  }
  remote_.path = bin;
  const Host a = MakeHost("a", dir_ + "/home1");
  auto locks = Held(Acquire("jane-dev", {&a}, alice_));
  ASSERT_TRUE(locks);
  EXPECT_EQ(locks->hosts(), 0u);
  EXPECT_THAT(locks->not_locked, ElementsAre("host a: no flock command (util-linux)"));
}

}  // namespace
}  // namespace runbook
