// Where runs live on disk, and how runs are named and found.
//
// Layout under the state directory:
//
//     <state>/<runbook-name>/lock                           the run lock (engine/lock.h)
//     <state>/<runbook-name>/runs/<run-id>/journal.jsonl    the run's journal (engine/journal.h)
//     <state>/<runbook-name>/runs/<run-id>/logs/<step>.log  each step's output
//
// A run id, "20261125T054302Z-3fa9", is its start in UTC to the second, then 4 random hex digits;
// CreateRunDir guarantees an id unique within its runbook. Runs are ordered by their start to
// the millisecond (the "ts" of run_started), never by id text: two runs started in the same
// second would otherwise be ordered by their random suffixes. Directories are created 0700:
// journals and logs may describe production systems. State files are opened with O_NOFOLLOW and
// must be regular files, in directories only this user can write (CheckStateDir).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"

namespace runbook {

// $RUNBOOK_STATE_DIR, else $XDG_STATE_HOME/runbook, else ~/.local/state/runbook (empty or
// relative XDG_STATE_HOME is ignored, as the XDG spec says). Only computes the path; the
// functions below create what they need.
std::string StateDir();

// A runbook name as the format allows it ([a-z0-9][a-z0-9-]*), so it is safe as a directory name.
bool IsValidRunbookName(std::string_view name);
// "YYYYMMDDTHHMMSSZ-xxxx" with lower-case hex.
bool IsRunId(std::string_view id);
// A step id as the format allows it ([a-z0-9][a-z0-9_-]*), so it is safe as a log file's name.
bool IsStepId(std::string_view id);

// Refuses `dir` and its `ancestors` nearest parents (the state tree above it) when one is not a
// directory owned by this user or is writable by group or others: someone else could plant a
// lock, journal or log there (a symlink to a file of ours, a forged journal). Missing ones pass:
// they are created 0700. The error names the path.
Status CheckStateDir(const std::string& dir, int ancestors);

// The largest state file read into memory (a journal of a million records is far smaller):
// anything bigger was not written by this engine.
inline constexpr size_t kMaxStateFileBytes = size_t{1} << 30;

// The id for a run started at `now`, with the low 16 bits of `random` as the suffix.
std::string FormatRunId(std::chrono::system_clock::time_point now, uint32_t random);
// An id for a run starting now, with a random suffix. Uniqueness is checked by CreateRunDir.
std::string NewRunId();

struct RunInfo {
  std::string name;  // the runbook name
  std::string run_id;
  std::string dir;      // <state>/<name>/runs/<run_id>
  std::string journal;  // <dir>/journal.jsonl
  // Start time in ms since the epoch: the "ts" of the journal's first record, or (when that
  // cannot be read) the start of the second the id names.
  int64_t started_ms = 0;
};

std::string RunbookStateDir(const std::string& state, const std::string& runbook);
std::string RunDir(const std::string& state, const std::string& runbook, const std::string& run_id);
std::string JournalPath(const std::string& run_dir);
std::string StepLogPath(const std::string& run_dir, const std::string& step_id);
std::string LockPath(const std::string& state, const std::string& runbook);

// Creates every missing directory of `dir` with mode 0700 (mkdir -p), fsyncing the parent of
// each one it creates so the new names survive power loss.
Status MakeDirs(const std::string& dir);

// Creates <state>/<runbook>/runs/<new id>/ and its logs/ directory, and fsyncs the parent so the
// new name survives power loss. Picks another id when the first is taken (two runs started in the
// same second). Errors on an invalid runbook name or an I/O failure.
Result<RunInfo> CreateRunDir(const std::string& state, const std::string& runbook);

// Removes the directory of a run that never wrote a journal record (refused before its first
// step), if it holds nothing else. Best effort: what is left is no run (ListRuns skips it).
void DiscardUnstartedRun(const std::string& run_dir);

// The runs of `runbook` (every runbook when empty) found under `state`, oldest first: sorted by
// start time, then run id, then runbook name. Directories whose names are not run ids are
// ignored, and so are runs whose journal is missing or empty (the engine died before writing
// anything). Missing state directories and invalid runbook names yield an empty list.
std::vector<RunInfo> ListRuns(const std::string& state, const std::string& runbook);

// The run with this exact id, in any runbook.
std::optional<RunInfo> FindRun(const std::string& state, const std::string& run_id);

// The most recent run of `runbook` (the last started).
std::optional<RunInfo> LatestRun(const std::string& state, const std::string& runbook);

}  // namespace runbook
