#include "engine/read_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>  // getpid, truncate

#include <filesystem>
#include <fstream>

namespace runbook {
namespace {

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rb-read-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ReadFileTest, ReadsWholeFilesOfAnySize) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536}, size_t{200000}}) {
    std::string content(size, 'x');
    for (size_t i = 0; i < size; i += 7) content[i] = static_cast<char>('a' + i % 26);
    Result<std::string> text = ReadFile(Write("f", content));
    ASSERT_TRUE(text.ok()) << text.message();
    EXPECT_EQ(*text, content) << size;
  }
}

TEST_F(ReadFileTest, MissingFile) {
  Result<std::string> text = ReadFile((dir_ / "missing").string());
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.message(), "cannot read: No such file or directory");
}

// Each of these gets one line, and none of them blocks or fills memory.
TEST_F(ReadFileTest, RefusesWhatIsNotARegularFile) {
  EXPECT_EQ(ReadFile(dir_.string()).message(), "is a directory, not a file");
  EXPECT_EQ(ReadFile("/dev/zero").message(), "is a device, not a regular file");
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(ReadFile(fifo).message(), "is a FIFO (named pipe), not a regular file");
}

TEST_F(ReadFileTest, RefusesFilesAboveTheCap) {
  const std::string at_cap = Write("cap", "");
  ASSERT_EQ(::truncate(at_cap.c_str(), kMaxInputBytes), 0);
  EXPECT_TRUE(ReadFile(at_cap).ok());
  ASSERT_EQ(::truncate(at_cap.c_str(), kMaxInputBytes + 1), 0);
  EXPECT_EQ(ReadFile(at_cap).message(), "is larger than 16 MiB");
}

}  // namespace
}  // namespace runbook
