// The terminal front end of the Reporter and Prompter interfaces.
//
// On a terminal: step output streamed live, a progress line (step N of M, current step, elapsed,
// spinner) redrawn below it, in colour. With NO_COLOR, TERM=dumb or output that is not a terminal:
// plain lines with a timestamp, each flushed as written, and a heartbeat line for a step silent
// for a while, so `tail -f` of a redirected run shows what runs. Lines are prefixed with the step
// id when steps run in parallel. A summary table ends the run.
//
// Questions go through the reporter (TerminalPrompter asks it): while one waits for its answer
// nothing redraws, so the question stays on screen; a line that must be printed meanwhile (a
// parallel step's output) goes above it and the question is written again below.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/reporter.h"

namespace runbook {

struct TerminalOptions {
  bool progress = false;    // a terminal that wants it: spinner and progress line
  bool color = false;       // ANSI colours
  bool prefix_ids = false;  // steps may run in parallel: prefix every output line
  // Plain output: a step without output for this long gets a "still running" line; 0: never.
  std::chrono::milliseconds heartbeat{30000};
};

// Decides the options from the environment: isatty(stdout), NO_COLOR, TERM=dumb.
TerminalOptions DetectTerminal(int jobs);

class TerminalReporter : public Reporter {
 public:
  explicit TerminalReporter(TerminalOptions options, std::FILE* out = stdout);
  ~TerminalReporter() override;

  void RunStarted(const std::string& runbook, const std::string& run_id, int total_steps,
                  DryRun dry_run) override;
  void StepStarted(const std::string& step_id, int index, int total) override;
  void StepLine(const std::string& step_id, Stream stream, std::string_view line) override;
  void GuardEvaluated(const std::string& step_id, GuardPhase phase, const char* kind,
                      const GuardResult& result) override;
  void Waiting(const std::string& step_id, const std::string& what, double seconds_left) override;
  void StepFinished(const StepSummary& summary) override;
  void Notice(const std::string& text) override;
  void RunFinished(const std::vector<StepSummary>& steps, int exit_code) override;

  // Shows `question` (no newline: the answer is typed after it) and stops all redrawing until
  // EndQuestion. `answered` false (end of input) ends the question's line.
  void BeginQuestion(const std::string& question);
  void EndQuestion(bool answered);

 private:
  // All writers hold mu_. Print clears the progress line, writes, and redraws it.
  void Print(const std::string& line);
  void DrawProgress();
  void ClearProgress();
  std::string Stamp() const;
  std::string Paint(const char* code, const std::string& text) const;
  void Tick();
  void Heartbeat();

  TerminalOptions options_;
  std::FILE* out_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_;
  int total_ = 0;
  int index_ = 0;
  std::set<std::string> current_;
  std::string waiting_;
  std::string question_;  // non-empty while a question waits for its answer
  // Per running step: when it last printed (or was last reported alive), for the heartbeat.
  std::map<std::string, std::chrono::steady_clock::time_point> last_output_;
  std::map<std::string, std::chrono::steady_clock::time_point> step_start_;
  bool progress_shown_ = false;
  int spin_ = 0;
  std::atomic<bool> stop_{false};
  std::thread ticker_;
};

// Asks on the terminal, through the reporter that owns the screen.
class TerminalPrompter : public Prompter {
 public:
  explicit TerminalPrompter(TerminalReporter* screen) : screen_(screen) {}
  bool interactive() const override;
  bool Confirm(const std::string& text) override;

 private:
  TerminalReporter* screen_;
};

}  // namespace runbook
