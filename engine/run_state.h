// What a run's journal records mean: the record builders the executor writes with, and the pure
// replay of records into the state of a run (for resume, status, history and the dry-run preview).
//
// Record types (the "type" field; schemas/journal.schema.json documents every field):
//   run_started   the first record of a run: what was run, with which inputs, by which process
//   run_resumed   a new process continues the run (runbook resume / run --resume): who, where,
//                 with which options
//   step_started  written before a step is spawned; with no step_finished after it, the step's
//                 outcome is unknown (the engine died while it ran)
//   step_process  a local process the step started: its process group and boot id
//   step_finished the step's outcome, exit code or signal, duration
//   guard         one evaluated guard / done_when / verify check, with its evidence
//   step_data     a value a step keeps with the run (StepEnv::SaveData)
//   confirmation  a step's question (`confirm:`, a manual step, a rerun) was answered: on the
//                 terminal (how long it waited) or by --yes
//   downtime      the runbook's downtime window closed: when it opened and closed, how long
//   run_finished  the run's outcome and exit code
// The journal (engine/journal.h) adds "seq", "ts" and, on the first record, "format".
//
// Builders never take secret values: callers pass rendered params with secrets already excluded.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/step_selection.h"

namespace runbook {

// ---- outcomes
// ------------------------------------------------------------------------------------

// How one attempt of a step ended (step_finished "outcome").
enum class StepOutcomeKind {
  kSuccess,      // "success": ran and exited 0 (and verify held)
  kFailure,      // "failure": ran and failed (non-zero exit, signal, SQL error, verify failed)
  kSkipped,      // "skipped": not run (when: false, or a dependency did not succeed)
  kDone,         // "done": done_when held, so it was recorded as done without running
  kInterrupted,  // "interrupted": stopped by Ctrl-C
  kTimedOut,     // "timed_out": killed at its timeout
  kBlocked,      // "blocked": a guard did not hold, so it did not run
  // Only in summaries shown to the operator, never journaled:
  kNotRun,       // "not_run": never started, an earlier failure stopped the run
  kAlreadyDone,  // "already_done": resume: finished in an earlier attempt of this run
  kNotSelected,  // "not_selected": left out by --only / --from
};
// The outcome's journal spelling, e.g. "timed_out".
const char* StepOutcomeName(StepOutcomeKind outcome);
std::optional<StepOutcomeKind> ParseStepOutcome(std::string_view name);

// How a run ended (run_finished "outcome").
enum class RunOutcome { kSuccess, kFailure, kBlocked, kInterrupted };
const char* RunOutcomeName(RunOutcome outcome);  // "success", "failure", "blocked", "interrupted"
std::optional<RunOutcome> ParseRunOutcome(std::string_view name);

// Which check a guard record is about.
enum class GuardPhase { kGuards, kDoneWhen, kVerify };
const char* GuardPhaseName(GuardPhase phase);  // "guards", "done_when", "verify"

// ---- record builders
// -------------------------------------------------------------------------------

struct RunStartedInfo {
  std::string run_id;                                     // e.g. "20261125T054302Z-3fa9"
  std::string runbook;                                    // the runbook's name
  std::string path;                                       // absolute path of the runbook file
  std::vector<std::string> inventories;                   // as given with -i, in order
  std::vector<std::pair<std::string, std::string>> sets;  // --set K=V, in order
  std::map<std::string, std::string> params;              // resolved params; never secrets
  std::vector<std::string> step_ids;                      // every step, in runbook order
  std::vector<std::string> finally_ids;                   // every finally step, in order
  // Each step's and finally step's needs, by id: a resume reports the needs changed since.
  std::map<std::string, std::vector<std::string>> step_needs;
  StepSelection selection;  // --only, --from, --rerun
  int pid = 0;
  std::string user;     // the OS user the engine runs as
  std::string host;     // hostname
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: tells a reboot from a live process
  // The runbook's `downtime:` window (from, to), when it has one.
  std::optional<std::pair<std::string, std::string>> downtime;
};
nlohmann::json RunStartedRecord(const RunStartedInfo& info);
struct RunResumedInfo {
  int pid = 0;
  std::string user, host, boot_id;  // as in RunStartedInfo
  StepSelection selection;          // given to this resume
  // What the resume runs with, when it differs from what the run last ran with (-i or --set
  // given to the resume): journaled only then.
  std::optional<std::vector<std::string>> inventories;
  std::optional<std::vector<std::pair<std::string, std::string>>> sets;
  std::optional<std::map<std::string, std::string>> params;  // never secrets
  // The runbook's steps as they are now, and the finished steps found under a new id (old, new):
  // resume_changes.h.
  std::vector<std::string> step_ids, finally_ids;
  std::map<std::string, std::vector<std::string>> step_needs;
  std::vector<std::pair<std::string, std::string>> renamed;
};
nlohmann::json RunResumedRecord(const RunResumedInfo& info);

// `hash` is the hash of the rendered step definition (what resume compares).
nlohmann::json StepStartedRecord(const std::string& step, int attempt, const std::string& hash);
// A process group the step started: locally (`host` empty) or on that ssh host, and the boot of
// the machine it runs on (a group of an earlier boot cannot be alive). A resume looks for live
// processes of an unfinished step by it.
nlohmann::json StepProcessRecord(const std::string& step, int pgid, const std::string& boot_id,
                                 const std::string& host = "");

struct StepFinishedInfo {
  std::string step;
  StepOutcomeKind outcome = StepOutcomeKind::kSuccess;
  int attempt = 1;
  std::optional<int> exit_code;  // when a process exited
  std::optional<int> signal;     // when a process was killed by a signal
  int64_t duration_ms = 0;
  std::string message;  // one line for the operator (e.g. the SQL error); "" for none
};
nlohmann::json StepFinishedRecord(const StepFinishedInfo& info);

// `kind` is the guard kind as written in the runbook (e.g. "postgres_idle").
nlohmann::json GuardRecord(const std::string& step, GuardPhase phase, const std::string& kind,
                           bool held, const std::string& summary,
                           const std::vector<std::string>& evidence);
nlohmann::json StepDataRecord(const std::string& step, const std::string& key,
                              const std::string& value);
nlohmann::json RunFinishedRecord(RunOutcome outcome, int exit_code);
// How a question was answered: by the operator on the terminal, or by --yes (nobody was asked).
enum class AnsweredBy { kTerminal, kYes };
const char* AnsweredByName(AnsweredBy by);  // "terminal", "yes"
// `waited_ms`: from the question to the answer (0 with --yes); `confirmed`: the answer was yes.
nlohmann::json ConfirmationRecord(const std::string& step, bool confirmed, int64_t waited_ms,
                                  AnsweredBy by);
// The window of `downtime: {from, to}` closed: `opened` and `closed` are timestamps
// (FormatTimestamp), `duration_ms` the time between them.
nlohmann::json DowntimeRecord(const std::string& from, const std::string& to,
                              const std::string& opened, const std::string& closed,
                              int64_t duration_ms);

// --only, --from and --rerun as run_started and run_resumed hold them, each only when given (the
// state store keeps a run's choice in this form too), and read back from such an object (fields
// of other types read as empty).
nlohmann::json SelectionJson(const StepSelection& selection);
StepSelection SelectionOf(const nlohmann::json& record);

// ---- replay ------------------------------------------------------------------------------------

enum class StepStatus {
  kPending,      // no record of it yet
  kRunning,      // started, never finished: the engine died (or the run is live)
  kSucceeded,    // last attempt: success
  kFailed,       // last attempt: failure or timed_out
  kSkipped,      // last attempt: skipped
  kDone,         // done_when held
  kInterrupted,  // stopped by Ctrl-C
  kBlocked,      // a guard did not hold
};
const char* StepStatusName(StepStatus status);  // "pending", "running", "succeeded", ...

// One evaluated check, as a guard record holds it.
struct GuardObservation {
  std::string phase;  // "guards", "done_when", "verify"
  std::string kind;
  bool held = false;
  std::string summary;
  std::vector<std::string> evidence;
  std::string ts;
};

struct StepState {
  StepStatus status = StepStatus::kPending;
  std::string hash;       // definition hash of the last step_started
  int attempts = 0;       // the highest attempt number started
  int pgid = 0;           // process group of the attempt's last process, 0 when none
  std::string boot_id;    // the boot that process group belongs to
  std::string pgid_host;  // the ssh host of that group; "" for a local one
  int64_t duration_ms = 0;
  std::string message;
  std::string outcome;  // the last step_finished outcome as written ("timed_out", ...)
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string started_at, finished_at;      // ts of the last step_started / step_finished
  std::map<std::string, std::string> data;  // step_data key -> value (the last one wins)
  std::vector<GuardObservation> guards;     // the checks of the last attempt, in order (a
                                            // guard or step_started after a step_finished
                                            // starts a new list)
};

// The downtime window of a run: opened by the first step_started of `from`, closed by the
// downtime record written when `to` finished.
struct WindowState {
  std::string from, to;
  std::string opened_at;               // "" while `from` never started
  std::string closed_at;               // "" while open (or never opened)
  std::optional<int64_t> duration_ms;  // closed windows
};

// One engine process that worked on the run: the one that started it, then one per resume.
struct Session {
  std::string ts;  // when it began (run_started / run_resumed)
  std::string user, host;
  int pid = 0;
  StepSelection selection;
  // A resume given other inventories or --set values: "-i /a.yaml --set k=v"; "" otherwise.
  std::string changed_options;
  std::vector<std::pair<std::string, std::string>> renamed;  // (old id, new id)
};

// A question of a step, answered.
struct Answer {
  std::string step, ts;
  bool confirmed = false;
  std::string by;  // "terminal", "yes"; "" in journals written before it was recorded
  int64_t waited_ms = 0;
};

struct RunState {
  std::string run_id, runbook, path;
  std::vector<std::string> inventories;
  std::vector<std::pair<std::string, std::string>> sets;
  std::map<std::string, std::string> params;
  std::map<std::string, StepState> steps;  // every id of step_ids, plus any other id recorded
  std::vector<std::string> step_ids;       // runbook order, from run_started (or the last resume)
  std::map<std::string, std::vector<std::string>> step_needs;  // by id; empty in old journals
  // The finally steps, from run_started (journals written before it was recorded: every other
  // id with a record, by id).
  std::vector<std::string> finally_ids;
  bool finished = false;   // a run_finished record is the last word (no run_resumed after it)
  std::string outcome;     // run_finished outcome; "" while not finished
  int exit_code = 0;       // run_finished exit_code; 0 while not finished
  std::string started_at;  // ts of run_started
  std::string ended_at;    // ts of run_finished; "" while not finished
  std::string last_ts;     // ts of the last record
  int pid = 0;             // the process that last ran it (run_started or run_resumed)
  std::string user;        // its OS user ("" in journals written before it was recorded)
  std::string host;
  std::string boot_id;
  int resumes = 0;                      // run_resumed records seen
  std::vector<Session> sessions;        // run_started, then each run_resumed
  std::vector<Answer> answers;          // confirmation records, in order
  std::optional<WindowState> downtime;  // runs of a runbook with `downtime:`
};

// Replays journal records in order. Pure and total: never throws; fields of unexpected types
// read as empty, and record types it does not know are ignored.
RunState ReplayJournal(const std::vector<nlohmann::json>& records);

// True when the run did not end in success: it has no run_finished (crashed or still live), or
// it finished as failure, blocked or interrupted. `run` refuses to start a new run of the same
// runbook while such a run exists, unless --fresh or --resume.
bool Unfinished(const RunState& run);

// Who ran an engine, as status, history and refusals say it: "alice@ops1" ("?@ops1" in journals
// written before the OS user was recorded; "?" when nothing is known: a store of schema version 1).
std::string OperatorName(const std::string& user, const std::string& host);

// True when the run has no run_finished record: its engine died (or is still running).
bool Crashed(const RunState& run);

// Ids of the steps in `status`: the steps in runbook order, then the finally steps.
std::vector<std::string> StepsWithStatus(const RunState& run, StepStatus status);

}  // namespace runbook
