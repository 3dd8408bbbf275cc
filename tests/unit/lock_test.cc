#include "engine/lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace runbook {
namespace {

namespace fs = std::filesystem;

class LockTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "lock_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/clone-prod/lock";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static LockHolder Me(const std::string& run_id) {
    LockHolder me = ThisProcess();
    me.run_id = run_id;
    me.started = "2026-11-25T05:43:02.123Z";
    return me;
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::string dir_;
  std::string path_;
};

TEST(LockHolderTest, Describe) {
  LockHolder h;
  h.pid = 123;
  h.host = "ops1";
  h.run_id = "20261125T054302Z-ab12";
  h.started = "2026-11-25T05:43:02.123Z";
  EXPECT_EQ(h.Describe(),
            "pid 123 on host ops1 (run 20261125T054302Z-ab12, started 2026-11-25T05:43:02.123Z)");
  EXPECT_EQ(LockHolder{}.Describe(), "an unknown process");
  LockHolder p;
  p.pid = 5;
  p.started = "t";
  EXPECT_EQ(p.Describe(), "pid 5 (started t)");
}

TEST(LockHolderTest, ThisProcess) {
  LockHolder me = ThisProcess();
  EXPECT_EQ(me.pid, getpid());
  EXPECT_FALSE(me.host.empty());
  EXPECT_EQ(me.boot_id.size(), 36u) << me.boot_id;  // a UUID
}

TEST_F(LockTest, AcquireWritesHolderAndReleaseEmptiesTheFile) {
  {
    auto attempt = AcquireRunLock(path_, Me("r1"));
    ASSERT_TRUE(attempt.ok()) << attempt.message();
    auto* acquired = std::get_if<LockAcquired>(&attempt.value());
    ASSERT_NE(acquired, nullptr);
    EXPECT_FALSE(acquired->took_over.has_value());
    EXPECT_EQ(fs::status(path_).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    std::string content = Slurp(path_);
    EXPECT_NE(content.find("\"pid\":" + std::to_string(getpid())), std::string::npos) << content;
    EXPECT_NE(content.find("\"run_id\":\"r1\""), std::string::npos) << content;

    // A second open file description conflicts even within one process.
    auto second = AcquireRunLock(path_, Me("r2"));
    ASSERT_TRUE(second.ok()) << second.message();
    auto* busy = std::get_if<LockBusy>(&second.value());
    ASSERT_NE(busy, nullptr);
    EXPECT_EQ(busy->holder.pid, getpid());
    EXPECT_EQ(busy->holder.run_id, "r1");
    EXPECT_EQ(busy->holder.started, "2026-11-25T05:43:02.123Z");
    EXPECT_EQ(Slurp(path_), content) << "a refused attempt leaves the holder's description";
  }
  EXPECT_EQ(Slurp(path_), "");
  auto again = AcquireRunLock(path_, Me("r3"));
  ASSERT_TRUE(again.ok());
  auto* acquired = std::get_if<LockAcquired>(&again.value());
  ASSERT_NE(acquired, nullptr);
  EXPECT_FALSE(acquired->took_over.has_value()) << "a clean release is not stale";
}

TEST_F(LockTest, SetHolderAddsTheRunIdLater) {
  LockHolder me = Me("");
  auto attempt = AcquireRunLock(path_, me);
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  auto& acquired = std::get<LockAcquired>(attempt.value());
  me.run_id = "20261125T054302Z-ab12";
  ASSERT_TRUE(acquired.lock->SetHolder(me).ok());
  auto busy = AcquireRunLock(path_, Me("other"));
  ASSERT_TRUE(busy.ok());
  ASSERT_TRUE(std::holds_alternative<LockBusy>(busy.value()));
  EXPECT_EQ(std::get<LockBusy>(busy.value()).holder.run_id, "20261125T054302Z-ab12");
}

TEST_F(LockTest, AnotherProcessHoldsItUntilKilledThenItIsTakenOver) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    auto attempt = AcquireRunLock(path_, Me("20261125T054302Z-ab12"));
    if (!attempt.ok() || !std::holds_alternative<LockAcquired>(attempt.value())) _exit(1);
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    for (;;) pause();  // hold the lock until killed
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1) << "the child could not take the lock";
  close(ready[0]);

  auto refused = AcquireRunLock(path_, Me("r2"));
  ASSERT_TRUE(refused.ok()) << refused.message();
  auto* busy = std::get_if<LockBusy>(&refused.value());
  ASSERT_NE(busy, nullptr);
  EXPECT_EQ(busy->holder.pid, child);
  EXPECT_EQ(busy->holder.run_id, "20261125T054302Z-ab12");
  EXPECT_EQ(busy->holder.Describe(), "pid " + std::to_string(child) + " on host " +
                                         ThisProcess().host +
                                         " (run 20261125T054302Z-ab12, started "
                                         "2026-11-25T05:43:02.123Z)");

  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);

  auto taken = AcquireRunLock(path_, Me("r3"));
  ASSERT_TRUE(taken.ok()) << taken.message();
  auto* acquired = std::get_if<LockAcquired>(&taken.value());
  ASSERT_NE(acquired, nullptr) << "the kernel released the dead holder's flock";
  ASSERT_TRUE(acquired->took_over.has_value());
  EXPECT_EQ(acquired->took_over->pid, child);
  EXPECT_EQ(acquired->took_over->run_id, "20261125T054302Z-ab12");
  EXPECT_TRUE(acquired->process_gone);
  EXPECT_NE(Slurp(path_).find("\"run_id\":\"r3\""), std::string::npos);
}

TEST_F(LockTest, StaleLockFromAnotherBootIsGone) {
  fs::create_directories(dir_ + "/clone-prod");
  LockHolder me = Me("r1");
  std::ofstream(path_) << R"({"pid":1,"host":")" << me.host
                       << R"(","boot_id":"another-boot","run_id":"old","started":"t"})";
  auto taken = AcquireRunLock(path_, me);
  ASSERT_TRUE(taken.ok());
  auto* acquired = std::get_if<LockAcquired>(&taken.value());
  ASSERT_NE(acquired, nullptr);
  ASSERT_TRUE(acquired->took_over.has_value());
  EXPECT_EQ(acquired->took_over->pid, 1);
  EXPECT_TRUE(acquired->process_gone) << "pid 1 exists now, but not the one of the old boot";
}

TEST_F(LockTest, GarbageInTheFileIsAnUnknownStaleHolder) {
  fs::create_directories(dir_ + "/clone-prod");
  std::ofstream(path_) << "\x01garbage";
  auto taken = AcquireRunLock(path_, Me("r1"));
  ASSERT_TRUE(taken.ok());
  auto* acquired = std::get_if<LockAcquired>(&taken.value());
  ASSERT_NE(acquired, nullptr);
  ASSERT_TRUE(acquired->took_over.has_value());
  EXPECT_EQ(acquired->took_over->Describe(), "an unknown process");
  EXPECT_FALSE(acquired->process_gone);
}

TEST_F(LockTest, APlantedSymlinkIsNotFollowed) {
  ASSERT_TRUE(fs::create_directory(dir_ + "/clone-prod"));
  const std::string target = dir_ + "/precious";
  std::ofstream(target) << "precious\n";
  fs::create_symlink(target, path_);
  auto attempt = AcquireRunLock(path_, Me("r1"));
  ASSERT_FALSE(attempt.ok());
  EXPECT_NE(attempt.message().find("is a symbolic link"), std::string::npos) << attempt.message();
  EXPECT_EQ(Slurp(target), "precious\n");
  fs::remove(path_);
  fs::create_symlink("/dev/zero", path_);
  EXPECT_FALSE(AcquireRunLock(path_, Me("r2")).ok());
}

}  // namespace
}  // namespace runbook
