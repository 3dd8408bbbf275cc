// The terminal front end of the Reporter and Prompter interfaces.
//
// On a terminal: step output streamed live, a progress line (step N of M, current step, elapsed,
// spinner) redrawn below it, colour unless NO_COLOR. Elsewhere: plain lines with a timestamp.
// Lines are prefixed with the step id when steps run in parallel. A summary table ends the run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/reporter.h"

namespace runbook {

struct TerminalOptions {
  bool tty = false;         // stdout is a terminal: progress line
  bool color = false;       // ANSI colours
  bool prefix_ids = false;  // steps may run in parallel: prefix every output line
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

 private:
  // All writers hold mu_. Print clears the progress line, writes, and redraws it.
  void Print(const std::string& line);
  void DrawProgress();
  void ClearProgress();
  std::string Stamp() const;
  std::string Paint(const char* code, const std::string& text) const;
  void Tick();

  TerminalOptions options_;
  std::FILE* out_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_;
  int total_ = 0;
  int index_ = 0;
  std::set<std::string> current_;
  std::string waiting_;
  bool progress_shown_ = false;
  int spin_ = 0;
  std::atomic<bool> stop_{false};
  std::thread ticker_;
};

class TerminalPrompter : public Prompter {
 public:
  bool interactive() const override;
  bool Confirm(const std::string& text) override;
};

}  // namespace runbook
