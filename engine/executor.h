// Running a runbook: the scheduler loop over the dependency graph, with the journal, the lock,
// resume, guards, retries, confirmations and `finally`.
//
// The executor owns no I/O of its own beyond the state directory: processes go through a
// ProcessRunner, everything the operator sees through a Reporter, every question through a
// Prompter. Tests build it with fakes; the CLI with the real ones.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "engine/loader.h"
#include "engine/process.h"
#include "engine/reporter.h"
#include "engine/step_selection.h"

namespace runbook {

// The exit codes of the contract.
enum ExitCode : int {
  kExitOk = 0,
  kExitStepFailed = 1,
  kExitInvalid = 2,
  kExitBlocked = 3,
  kExitRefused = 4,
  kExitInterrupted = 130,
};

enum class StartMode {
  kNew,     // refuse when an unfinished run of this runbook exists
  kResume,  // continue the latest unfinished run (or `resume_run_id`)
  kFresh,   // start a new run even if an unfinished one exists
};

struct ExecOptions {
  std::string state_dir;  // where runs, journals, logs and locks live
  // The team's state store (engine/store_mirror.h); empty: none. The run's journal is copied
  // there record by record; when the store goes away no new step starts and the run stops, exit 4.
  std::string store_url;
  StartMode start = StartMode::kNew;
  std::string resume_run_id;  // kResume: this run; empty: the latest unfinished one
  StepSelection selection;    // --only, --from, --rerun (checked: CheckSelection)
  int jobs = 1;               // independent steps run at most this many at once
  bool yes = false;           // confirms `confirm:`, manual steps and reruns of crashed steps
  Duration retry_backoff = std::chrono::seconds(1);  // first retry delay; doubles, max 60 s
  Duration kill_grace = std::chrono::seconds(5);     // SIGTERM -> SIGKILL
  // What the run was loaded with, kept in the journal so that `resume` can reload it.
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  const std::atomic<bool>* interrupt = nullptr;  // set by the CLI's SIGINT/SIGTERM handler
  // Set by a second SIGINT/SIGTERM: it stops the finally steps marked `on_interrupt: run`.
  const std::atomic<bool>* interrupt_again = nullptr;
};

struct Collaborators {
  ProcessRunner* processes = nullptr;
  Reporter* reporter = nullptr;
  Prompter* prompter = nullptr;
};

struct ExecResult {
  int exit_code = kExitOk;
  std::string run_id;
  std::string run_dir;
  std::vector<StepSummary> steps;
  std::optional<WindowState> downtime;  // the runbook's `downtime:` window in this run
};

// Runs `loaded` (already validated). Returns the contract's exit code; never throws.
ExecResult ExecuteRun(const LoadedRunbook& loaded, const ExecOptions& options,
                      const Collaborators& collaborators);

}  // namespace runbook
