// Tests of the system process runner against real processes (sh, sleep, cat).
#include "engine/process.h"
#include "tests/support/out_err_sink.h"
#include "tests/support/proc_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
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
using namespace std::chrono_literals;

ProcessSpec Shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", script};
  spec.timeout = 20s;  // a hanging runner fails the test instead of hanging it
  return spec;
}

// A process is alive when it exists and is not a zombie waiting to be reaped by init.
bool Alive(pid_t pid) {
  return runbook::testing::IsLiveProcess(pid);
}

// Waits up to `limit` for every pid to be gone.
bool AllGone(const std::vector<pid_t>& pids, std::chrono::milliseconds limit = 2000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    bool any = false;
    for (pid_t p : pids) any = any || Alive(p);
    if (!any) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Waits up to 2 s for a process group to have no member left but zombies waiting for init.
bool GroupGone(pid_t pgid) {
  auto end = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < end) {
    if (!runbook::testing::GroupHasLiveMember(pgid)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::vector<pid_t> Pids(const std::vector<std::string>& lines) {
  std::vector<pid_t> pids;
  for (const std::string& l : lines) pids.push_back(std::stoi(l));
  return pids;
}

class ProcessTest : public ::testing::Test {
 protected:
  ProcessResult Run(const ProcessSpec& spec, const CancelToken& cancel = CancelToken()) {
    return runner_->Run(spec, &sink_, cancel);
  }
  std::unique_ptr<ProcessRunner> runner_ = MakeSystemProcessRunner();
  OutErrSink sink_;
};

TEST_F(ProcessTest, BothStreamsAndExitCode) {
  ProcessResult r = Run(Shell("echo out1; echo err1 >&2; echo out2; printf partial; exit 3"));
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe(), "exit 3");
  EXPECT_THAT(sink_.out, ElementsAre("out1", "out2", "partial"));
  EXPECT_THAT(sink_.err, ElementsAre("err1"));
}

TEST_F(ProcessTest, SuccessIsOk) {
  ProcessResult r = Run(Shell("true"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.Describe(), "exit 0");
  EXPECT_TRUE(sink_.out.empty());
}

TEST_F(ProcessTest, MegabyteOnEachStreamDoesNotDeadlock) {
  // stderr is written first and in full: a reader that drained stdout first would block forever.
  ProcessResult r = Run(
      Shell("yes 0123456789abcdef | head -c 1048560 >&2; yes 0123456789abcdef | head -c 1048560"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  size_t out_bytes = 0, err_bytes = 0;
  for (const auto& l : sink_.out) out_bytes += l.size() + 1;
  for (const auto& l : sink_.err) err_bytes += l.size() + 1;
  EXPECT_EQ(out_bytes, 1048560u);  // 61680 lines of 17 bytes
  EXPECT_EQ(err_bytes, 1048560u);
  EXPECT_EQ(sink_.out.size(), 61680u);
  EXPECT_EQ(sink_.out.front(), "0123456789abcdef");
}

TEST_F(ProcessTest, LongLinesAreCut) {
  ProcessResult r = Run(Shell("head -c 200000 /dev/zero | tr '\\0' x; echo; echo next"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_GE(sink_.out.size(), 4u);
  EXPECT_EQ(sink_.out[0].size(), 65536u);
  EXPECT_EQ(sink_.out.back(), "next");
  size_t xs = 0;
  for (size_t i = 0; i + 1 < sink_.out.size(); ++i) xs += sink_.out[i].size();
  EXPECT_EQ(xs, 200000u);
}

TEST_F(ProcessTest, EnvironmentAndWorkingDirectory) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("process_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  ProcessSpec spec = Shell("echo \"$FOO\"; echo \"$HOME_SEEN\"; pwd; echo \"${PATH:+path}\"");
  spec.env = {{"FOO", "bar baz"}, {"HOME_SEEN", "yes"}};
  spec.cwd = dir;
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("bar baz", "yes", dir, "path"));
  std::filesystem::remove_all(dir);
}

TEST_F(ProcessTest, EnvironmentOverridesInheritedVariable) {
  setenv("RUNBOOK_PROCESS_TEST_VAR", "old", 1);
  ProcessSpec spec =
      Shell("echo \"$RUNBOOK_PROCESS_TEST_VAR\"; env | grep -c ^RUNBOOK_PROCESS_TEST_VAR=");
  spec.env = {{"RUNBOOK_PROCESS_TEST_VAR", "new"}};
  ProcessResult r = Run(spec);
  unsetenv("RUNBOOK_PROCESS_TEST_VAR");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("new", "1"));
}

TEST_F(ProcessTest, UnsetVariablesAreNotInheritedUnlessGivenAgain) {
  setenv("RUNBOOK_PROCESS_TEST_GONE", "secret-source", 1);
  setenv("RUNBOOK_PROCESS_TEST_BACK", "secret-source", 1);
  setenv("RUNBOOK_PROCESS_TEST_GONE_NOT", "kept", 1);  // a longer name with the same prefix
  ProcessSpec spec = Shell(
      "echo \"${RUNBOOK_PROCESS_TEST_GONE-unset}\" \"$RUNBOOK_PROCESS_TEST_BACK\" "
      "\"$RUNBOOK_PROCESS_TEST_GONE_NOT\"");
  spec.unset_env = {"RUNBOOK_PROCESS_TEST_GONE", "RUNBOOK_PROCESS_TEST_BACK"};
  spec.env = {{"RUNBOOK_PROCESS_TEST_BACK", "given"}};
  ProcessResult r = Run(spec);
  unsetenv("RUNBOOK_PROCESS_TEST_GONE");
  unsetenv("RUNBOOK_PROCESS_TEST_BACK");
  unsetenv("RUNBOOK_PROCESS_TEST_GONE_NOT");
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("unset given kept"));
}

TEST_F(ProcessTest, PathFromSpecEnvironmentIsSearched) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("process_path_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/my-tool");
    f << "#!/bin/sh\necho my-tool \"$@\"\n";
  }
  std::filesystem::permissions(dir + "/my-tool", std::filesystem::perms::owner_all);
  ProcessSpec spec;
  spec.argv = {"my-tool", "a b"};
  spec.env = {{"PATH", dir + ":/usr/bin:/bin"}};
  ProcessResult r = Run(spec);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("my-tool a b"));
}

TEST_F(ProcessTest, StdinDataIsWrittenThenClosed) {
  ProcessSpec spec;
  spec.argv = {"cat"};
  spec.stdin_data = "hello\nworld\n";
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("hello", "world"));
}

TEST_F(ProcessTest, StdinIsDevNullByDefault) {
  ProcessResult r = Run(Shell("readlink /proc/self/fd/0; cat"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("/dev/null"));
}

TEST_F(ProcessTest, StdinKeptOpenUntilExit) {
  ProcessSpec spec = Shell("cat; echo eof");
  spec.stdin_data = "first\n";
  spec.keep_stdin_open = true;
  spec.timeout = 500ms;
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.timed_out);  // cat never saw the end of its input
  EXPECT_THAT(sink_.out, ElementsAre("first"));
}

TEST_F(ProcessTest, StdinKeptOpenChildExitsOnItsOwn) {
  ProcessSpec spec = Shell("head -n 1; echo done");
  spec.stdin_data = "first\nsecond\n";
  spec.keep_stdin_open = true;
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("first", "done"));
}

TEST_F(ProcessTest, InputIsWrittenOnlyAfterTheHook) {
  std::string file = std::filesystem::temp_directory_path() / ("hook_" + std::to_string(getpid()));
  ProcessSpec spec = Shell("cat >\"$F\"");
  spec.env = {{"F", file}};
  spec.stdin_data = "data\n";
  int calls = 0;
  std::uintmax_t size_in_hook = 1;
  spec.before_input = [&] {
    ++calls;
    std::this_thread::sleep_for(200ms);  // the child runs meanwhile
    std::error_code ec;
    size_in_hook = std::filesystem::file_size(file, ec);
    return Status::Ok();
  };
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(size_in_hook, 0u);
  EXPECT_EQ(std::filesystem::file_size(file), 5u);
  std::filesystem::remove(file);
}

TEST_F(ProcessTest, FailedHookStopsTheChild) {
  ProcessSpec spec = Shell("read x; echo \"got $x\"");
  spec.stdin_data = "data\n";
  spec.before_input = [] { return Status::Error("journal write failed: disk full"); };
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = Run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe(), "failed: journal write failed: disk full");
  EXPECT_TRUE(sink_.out.empty());
}

TEST_F(ProcessTest, UnreadStdinIsNotAnError) {
  ProcessSpec spec = Shell("exit 0");
  spec.stdin_data = std::string(1 << 20, 'x');  // more than a pipe holds
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.ok()) << r.Describe();
}

TEST_F(ProcessTest, SecretsAreRedactedOnBothStreams) {
  ProcessSpec spec =
      Shell("echo \"token=$T end\"; echo \"$T$T\" >&2; echo \"long: ${T}-extended\"; echo clean");
  spec.env = {{"T", "s3cr3t"}};
  spec.redact = {"s3cr3t", "s3cr3t-extended", ""};
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("token=*** end", "long: ***", "clean"));
  EXPECT_THAT(sink_.err, ElementsAre("******"));
}

TEST_F(ProcessTest, SecretStraddlingALineCutIsRedacted) {
  // 65530 bytes then the secret: the forced cut at 64 KiB would fall inside it.
  ProcessSpec spec =
      Shell("head -c 65530 /dev/zero | tr '\\0' x; printf 'SECRETVALUE tail\\n'; echo done");
  spec.redact = {"SECRETVALUE"};
  ProcessResult r = Run(spec);
  ASSERT_TRUE(r.ok()) << r.Describe();
  std::string all;
  for (const auto& l : sink_.out) {
    EXPECT_THAT(l, Not(HasSubstr("SECRET")));
    EXPECT_THAT(l, Not(HasSubstr("VALUE")));
    all += l;
  }
  EXPECT_EQ(all, std::string(65530, 'x') + "*** taildone");
}

TEST_F(ProcessTest, TimeoutKillsTheWholeTree) {
  ProcessSpec spec = Shell("echo $$; sleep 30 & echo $!; sleep 30 & echo $!; wait");
  // Long enough for a loaded machine to start the shell and both children before it fires.
  spec.timeout = 2s;
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = Run(spec);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  EXPECT_EQ(r.Describe(), "timed out after 2s (killed)");
  EXPECT_LT(took, 6s);
  ASSERT_EQ(sink_.out.size(), 3u);
  std::vector<pid_t> pids = Pids(sink_.out);
  EXPECT_TRUE(AllGone(pids));
  EXPECT_TRUE(GroupGone(pids[0]));
}

TEST_F(ProcessTest, TimeoutEscalatesToSigkill) {
  ProcessSpec spec = Shell("trap '' TERM; echo $$; sleep 30 & echo $!; wait");
  spec.timeout = 300ms;
  spec.kill_grace = 300ms;
  ProcessResult r = Run(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 137);
  ASSERT_EQ(sink_.out.size(), 2u);
  EXPECT_TRUE(AllGone(Pids(sink_.out)));
}

TEST_F(ProcessTest, SignalledChildIsReportedAsSignal) {
  ProcessResult r = Run(Shell("kill -KILL $$"));
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.Describe(), "killed by SIGKILL");
}

TEST_F(ProcessTest, ExitNineIsNotASignal) {
  ProcessResult r = Run(Shell("exit 9"));
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.exit_code, 9);
}

TEST_F(ProcessTest, MissingProgramCannotStart) {
  ProcessSpec spec;
  spec.argv = {"no-such-program-runbook"};
  ProcessResult r = Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error, "no-such-program-runbook: not found");
  EXPECT_EQ(r.Describe(), "could not start: no-such-program-runbook: not found");
}

TEST_F(ProcessTest, MissingPathCannotStart) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/prog"};
  ProcessResult r = Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.Describe(), "could not start: /nonexistent/prog: No such file or directory");
}

TEST_F(ProcessTest, MissingWorkingDirectoryCannotStart) {
  ProcessSpec spec = Shell("true");
  spec.cwd = "/nonexistent/dir";
  ProcessResult r = Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.Describe(),
            "could not start: working directory /nonexistent/dir: No such file or directory");
}

TEST_F(ProcessTest, FailedExecDoesNotRunParentExitPath) {
  // A non-executable file: exec fails after fork; the child must _exit, not flush our buffers.
  std::string path =
      std::filesystem::temp_directory_path() / ("noexec_" + std::to_string(getpid()));
  { std::ofstream(path) << "data\n"; }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  ProcessSpec spec;
  spec.argv = {path};
  ProcessResult r = Run(spec);
  std::filesystem::remove(path);
  EXPECT_FALSE(r.started);
  EXPECT_THAT(r.error, HasSubstr("Exec format error"));
  // No child of ours is left: waitpid fails with ECHILD (a zombie would be reaped here).
  pid_t got = 0;
  for (int i = 0; i < 25 && got == 0; ++i) {
    got = waitpid(-1, nullptr, WNOHANG);
    if (got == 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(got, -1) << "the failed child was left a zombie";
}

TEST_F(ProcessTest, DescriptorsAboveTwoAreNotInherited) {
  int leaked = open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaked, 3);
  ProcessResult r = Run(Shell("ls /proc/$$/fd"));
  close(leaked);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("0", "1", "2"));
}

TEST_F(ProcessTest, EngineWithClosedStdinStillWiresTheChild) {
  // Started with stdin closed (cron, `<&-`), the engine's first pipe gets fd 0; the child must
  // still get /dev/null on 0 and our pipes on 1 and 2.
  int saved = dup(0);
  ASSERT_GE(saved, 0);
  close(0);
  ProcessResult r = Run(Shell("readlink /proc/$$/fd/0; echo out; echo err >&2"));
  dup2(saved, 0);
  close(saved);
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("/dev/null", "out"));
  EXPECT_THAT(sink_.err, ElementsAre("err"));
}

TEST_F(ProcessTest, ChildGetsDefaultSigpipe) {
  // The runner ignores SIGPIPE in the engine; a child must not inherit that, or `yes | head`
  // reports "Broken pipe" instead of dying quietly.
  ProcessResult r = Run(Shell("yes | head -n 1"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(sink_.out, ElementsAre("y"));
  EXPECT_TRUE(sink_.err.empty()) << sink_.err.front();
}

TEST_F(ProcessTest, ChildRunsInItsOwnProcessGroup) {
  ProcessResult r = Run(Shell("echo $$; ps -o pgid= -p $$"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(sink_.out.size(), 2u);
  EXPECT_EQ(std::stoi(sink_.out[0]), std::stoi(sink_.out[1]));
  EXPECT_NE(std::stoi(sink_.out[1]), getpgrp());
}

TEST_F(ProcessTest, BackgroundLeftoverDoesNotHang) {
  auto start = std::chrono::steady_clock::now();
  ProcessResult r = Run(Shell("(sleep 5; echo late) & echo $!; echo early"));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.ok()) << r.Describe();
  EXPECT_LT(took, 2s);
  ASSERT_EQ(sink_.out.size(), 2u);
  EXPECT_EQ(sink_.out[1], "early");
  EXPECT_TRUE(AllGone(Pids({sink_.out[0]})));
}

TEST_F(ProcessTest, BackgroundWithoutOurPipesIsLeftAlone) {
  // A daemon-like child that let go of the output does not delay the step and is not killed.
  ProcessResult r = Run(Shell("sleep 3 >/dev/null 2>&1 & echo $!"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  ASSERT_EQ(sink_.out.size(), 1u);
  pid_t pid = std::stoi(sink_.out[0]);
  EXPECT_TRUE(Alive(pid));
  kill(pid, SIGKILL);
}

TEST_F(ProcessTest, CancelFromAnotherThreadEndsTheTree) {
  std::atomic<bool> flag{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    flag = true;
  });
  auto start = std::chrono::steady_clock::now();
  ProcessResult r =
      Run(Shell("echo $$; sleep 30 & echo $!; sleep 30 & echo $!; wait"), CancelToken(&flag));
  auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe(), "cancelled (killed)");
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_LT(took, 3s);
  ASSERT_EQ(sink_.out.size(), 3u);
  EXPECT_TRUE(AllGone(Pids(sink_.out)));
}

TEST_F(ProcessTest, ConcurrentRunsAreIndependent) {
  constexpr int kThreads = 6;
  std::vector<OutErrSink> sinks(kThreads);
  std::vector<ProcessResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ProcessSpec spec = Shell("for n in 1 2 3 4 5; do echo \"$ID-$n\"; done; exit $ID");
      spec.env = {{"ID", std::to_string(i)}};
      results[i] = runner_->Run(spec, &sinks[i], CancelToken());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    std::string id = std::to_string(i);
    EXPECT_EQ(results[i].exit_code, i);
    EXPECT_THAT(sinks[i].out, ElementsAre(id + "-1", id + "-2", id + "-3", id + "-4", id + "-5"));
  }
}

TEST(ProcessResultTest, Describe) {
  ProcessResult r;
  r.error = "ssh: not found";
  EXPECT_EQ(r.Describe(), "could not start: ssh: not found");
  r.started = true;
  r.error.clear();
  r.exit_code = 137;
  r.signal = 9;
  r.timed_out = true;
  r.timeout = 90s;
  EXPECT_EQ(r.Describe(), "timed out after 1m30s (killed)");
  r.timeout = 2h;
  EXPECT_EQ(r.Describe(), "timed out after 2h (killed)");
  r.timeout = 1500ms;
  EXPECT_EQ(r.Describe(), "timed out after 1.5s (killed)");
  r.signal = 0;
  r.exit_code = 0;
  EXPECT_EQ(r.Describe(), "timed out after 1.5s (killed)");
  EXPECT_FALSE(r.ok());
  r.timed_out = false;
  r.exit_code = 255;
  r.connection_failed = true;
  r.error = "ssh: connect to host 127.0.0.1 port 1: Connection refused";
  EXPECT_EQ(r.Describe(),
            "connection failed: ssh: connect to host 127.0.0.1 port 1: Connection refused");
}

}  // namespace
}  // namespace runbook
