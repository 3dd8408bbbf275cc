#include "engine/read_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

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

TEST_F(ReadFileTest, PiecesRewindAndPipes) {
  const std::string content(150000, 'y');
  InputFile file;
  ASSERT_TRUE(file.Open(Write("g", content)));
  EXPECT_TRUE(file.regular());
  EXPECT_EQ(file.size_hint(), content.size());
  std::string joined;
  int pieces = 0;
  file.ForEachPiece([&](std::string_view piece) {
    joined.append(piece);
    return ++pieces < 2;  // stops after two pieces
  });
  EXPECT_EQ(pieces, 2);
  EXPECT_EQ(joined, content.substr(0, joined.size()));
  EXPECT_EQ(joined.size() + file.ReadRest().size(), content.size());
  ASSERT_TRUE(file.Rewind());
  EXPECT_EQ(file.ReadRest(), content);

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(write(fds[1], "piped", 5), 5);
  close(fds[1]);
  InputFile piped;
  ASSERT_TRUE(piped.Open("/proc/self/fd/" + std::to_string(fds[0])));
  close(fds[0]);
  EXPECT_FALSE(piped.regular());
  EXPECT_EQ(piped.ReadRest(), "piped");
}

}  // namespace
}  // namespace runbook
