// The terminal reporter's screen discipline: a waiting question is never drawn over, and plain
// output gets a heartbeat for a silent step. Output goes to a memory stream, read after the
// reporter (and its ticker thread) is gone.
#include "cli/terminal_reporter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

namespace runbook {
namespace {

using std::chrono::milliseconds;

class Screen {
 public:
  Screen() : file_(open_memstream(&data_, &size_)) {}
  ~Screen() { std::free(data_); }
  std::FILE* file() { return file_; }
  // Closes the stream; call after the reporter is destroyed.
  std::string Text() {
    std::fclose(file_);
    return std::string(data_, size_);
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  std::FILE* file_;
};

TEST(TerminalReporterTest, NothingDrawsOverAWaitingQuestion) {
  Screen screen;
  {
    TerminalOptions options;
    options.progress = true;
    options.prefix_ids = true;
    TerminalReporter reporter(options, screen.file());
    reporter.RunStarted("rb", "run-1", 2, DryRun::kNo);
    reporter.StepStarted("drop", 1, 2);
    reporter.StepStarted("other", 2, 2);
    std::this_thread::sleep_for(milliseconds(300));  // the spinner runs
    reporter.BeginQuestion("step 'drop': Drops it.\nProceed? [y/N] ");
    reporter.StepLine("other", Stream::kStdout, "a parallel line");
    std::this_thread::sleep_for(milliseconds(500));  // several ticks while the question waits
  }
  const std::string text = screen.Text();
  const size_t asked = text.find("Proceed? [y/N] ");
  ASSERT_NE(asked, std::string::npos) << text;
  EXPECT_NE(text.find("step 1 of 2"), std::string::npos) << "the spinner never ran: " << text;
  const std::string after = text.substr(asked);
  EXPECT_EQ(after.find("step 1 of 2"), std::string::npos) << "redrawn over the question: " << text;
  // The parallel line went above the question, which was written again below it.
  EXPECT_NE(after.find("[other] a parallel line\nstep 'drop': Drops it.\nProceed? [y/N] "),
            std::string::npos)
      << text;
}

TEST(TerminalReporterTest, PlainOutputHeartbeatForASilentStepButNotDuringAQuestion) {
  Screen screen;
  {
    TerminalOptions options;
    options.heartbeat = milliseconds(200);
    TerminalReporter reporter(options, screen.file());
    reporter.StepStarted("slow", 1, 1);
    std::this_thread::sleep_for(milliseconds(500));
    reporter.BeginQuestion("Proceed? [y/N] ");
    std::this_thread::sleep_for(milliseconds(500));
  }
  const std::string text = screen.Text();
  const size_t asked = text.find("Proceed? [y/N] ");
  ASSERT_NE(asked, std::string::npos) << text;
  const size_t beat = text.find("slow still running after ");
  ASSERT_NE(beat, std::string::npos) << text;
  EXPECT_LT(beat, asked);
  EXPECT_EQ(text.find("still running", asked), std::string::npos) << text;
  EXPECT_EQ(text.find("\033["), std::string::npos) << "escape sequences in plain output: " << text;
}

TEST(TerminalReporterTest, NoHeartbeatWhenTurnedOff) {
  Screen screen;
  {
    TerminalOptions options;
    options.heartbeat = milliseconds(0);
    TerminalReporter reporter(options, screen.file());
    reporter.StepStarted("slow", 1, 1);
    std::this_thread::sleep_for(milliseconds(300));
  }
  EXPECT_EQ(screen.Text().find("still running"), std::string::npos);
}

}  // namespace
}  // namespace runbook
