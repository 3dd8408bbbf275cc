#include "engine/log_tail.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace runbook {
namespace {

class LogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("log_tail_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(LogTailTest, ReadsFromTheOffsetUpToTheCap) {
  const std::string path = Write("a.log", "one\ntwo\nthr");
  EXPECT_EQ(*ReadLogFrom(path, 0, 100), "one\ntwo\nthr");
  EXPECT_EQ(*ReadLogFrom(path, 4, 100), "two\nthr");
  EXPECT_EQ(*ReadLogFrom(path, 4, 3), "two");
  EXPECT_EQ(*ReadLogFrom(path, 11, 100), "");
  EXPECT_EQ(*ReadLogFrom(path, 50, 100), "");
}

TEST_F(LogTailTest, AMissingLogIsEmptyAndASymlinkIsRefused) {
  EXPECT_EQ(*ReadLogFrom((dir_ / "none.log").string(), 0, 100), "");
  const std::string target = Write("target", "secret\n");
  std::filesystem::create_symlink(target, dir_ / "link.log");
  EXPECT_FALSE(ReadLogFrom((dir_ / "link.log").string(), 0, 100).ok());
  std::filesystem::create_directory(dir_ / "dir.log");
  EXPECT_FALSE(ReadLogFrom((dir_ / "dir.log").string(), 0, 100).ok());
}

TEST(WholeLines, StopsAfterTheLastNewline) {
  EXPECT_EQ(WholeLines("one\ntwo\nthr"), 8u);
  EXPECT_EQ(WholeLines("one\n"), 4u);
  EXPECT_EQ(WholeLines("half a line"), 0u);
  EXPECT_EQ(WholeLines(""), 0u);
}

}  // namespace
}  // namespace runbook
