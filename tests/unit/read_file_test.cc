#include "engine/read_file.h"

#include <gtest/gtest.h>
#include <unistd.h>  // getpid

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
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{200000}}) {
    std::string content(size, 'x');
    for (size_t i = 0; i < size; i += 7) content[i] = static_cast<char>('a' + i % 26);
    std::string text = "stale";
    ASSERT_TRUE(ReadFile(Write("f", content), &text));
    EXPECT_EQ(text, content) << size;
  }
}

TEST_F(ReadFileTest, MissingFileAndDirectory) {
  std::string text;
  EXPECT_FALSE(ReadFile((dir_ / "missing").string(), &text));
  // A directory opens but reads nothing, as a stream copy of it does.
  ASSERT_TRUE(ReadFile(dir_.string(), &text));
  EXPECT_EQ(text, "");
}

}  // namespace
}  // namespace runbook
