// What the engine tells the operator while it works: an event interface with one implementation
// per front end (cli/terminal_reporter.cc for terminals and plain logs; tests record events).
// The engine never writes to stdout/stderr itself.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/output.h"
#include "engine/run_state.h"
#include "engine/step_env.h"

namespace runbook {

struct StepSummary {
  std::string id;
  StepOutcomeKind outcome = StepOutcomeKind::kNotRun;
  double seconds = 0;
  int attempts = 0;
  std::string message;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void RunStarted(const std::string& runbook, const std::string& run_id, int total_steps,
                          DryRun dry_run) = 0;
  virtual void StepStarted(const std::string& step_id, int index, int total) = 0;
  // A line of a step's output or of the engine about the step. `prefix` is set when steps run in
  // parallel so interleaved lines stay attributable.
  virtual void StepLine(const std::string& step_id, Stream stream, std::string_view line) = 0;
  virtual void GuardEvaluated(const std::string& step_id, GuardPhase phase, const char* kind,
                              const GuardResult& result) = 0;
  // A guard with `wait:` did not hold yet; the engine polls it again.
  virtual void Waiting(const std::string& step_id, const std::string& what,
                       double seconds_left) = 0;
  virtual void StepFinished(const StepSummary& summary) = 0;
  // Anything the operator must read: a stale lock taken over, a changed definition, ...
  virtual void Notice(const std::string& text) = 0;
  virtual void RunFinished(const std::vector<StepSummary>& steps, int exit_code) = 0;
};

// Reports nothing: plans (guard output is evidence there, not a stream) and callers that only
// want the result.
class SilentReporter : public Reporter {
 public:
  void RunStarted(const std::string&, const std::string&, int, DryRun) override {}
  void StepStarted(const std::string&, int, int) override {}
  void StepLine(const std::string&, Stream, std::string_view) override {}
  void GuardEvaluated(const std::string&, GuardPhase, const char*, const GuardResult&) override {}
  void Waiting(const std::string&, const std::string&, double) override {}
  void StepFinished(const StepSummary&) override {}
  void Notice(const std::string&) override {}
  void RunFinished(const std::vector<StepSummary>&, int) override {}
};

// Asking the operator: confirmations and manual steps. The CLI's implementation reads the terminal.
class Prompter {
 public:
  virtual ~Prompter() = default;
  virtual bool interactive() const = 0;
  // Shows `text` and asks yes/no; false when declined or no answer.
  virtual bool Confirm(const std::string& text) = 0;
};

}  // namespace runbook
