// The team's run store in PostgreSQL: runs, their journal records and step logs in a schema
// `runbook` of a database the team shares (docs/team.md), chosen with --state URL or
// RUNBOOK_STATE_URL (a libpq URI or conninfo).
//
// Tables (StoreMigrations; the schema's version is the row 'schema_version' of runbook.meta):
//   runs        one row per run: its runbook, start, end, outcome, step counts, who started it
//               and which steps were chosen (what `history` lists without reading any record)
//   records     the run's journal records in seq order, as the file journal holds them
//   log_chunks  each step's log in pieces, in order
// and the run lock: a session-level advisory lock in the store's database, keyed by the lock name
// (Runbook::LockName), which a run holds on a connection of its own from before its first step to
// its end, so that runs sharing a store run one at a time per lock name even when they touch no
// common database server. The connection's application_name describes the holder (engine/
// target_lock.h LockApplicationName), and tells a follower on another machine whether the run's
// engine is still there.
// Journal records never hold secret values (engine/run_state.h), and logs are stored as the
// engine wrote them to files: already masked.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/diag.h"
#include "engine/run_state.h"
#include "engine/target_lock.h"

namespace runbook {

class PgConnection;

// The schema version this engine writes. It reads a store of an older version too.
inline constexpr int kStoreSchemaVersion = 2;

// The schema's migrations, oldest first: StoreMigrations()[N - 1] brings a store of version N - 1
// (0: none) to version N. Each may be applied again harmlessly (IF NOT EXISTS; a backfill leaves
// filled rows alone), so the SQL for a DBA may meet a store of any older version.
//   1  meta, runs, records, log_chunks
//   2  runs: started_user, started_host and selection (--only/--from/--rerun, as run_started
//      holds them), filled for the runs already there from their run_started records
const std::vector<std::string>& StoreMigrations();

// The SQL for `runbook state init --print-sql`: every migration and the new version in one
// transaction, under the lock engines take for it; refused by a store of a newer version. Safe on
// an empty database, on a store of any older version, and applied twice.
std::string StoreSchemaSql();

// The store to use: `flag` (--state), else $RUNBOOK_STATE_URL, else `inventory` (an inventory's
// `state: {url:}`); "" when none is set: the state directory alone.
std::string StoreUrl(const std::string& flag, const std::string& inventory = "");

// A run as `history` lists it.
struct StoredRun {
  std::string run_id, runbook;
  std::string started, ended;  // RFC 3339 UTC with milliseconds; ended "" while unfinished
  std::string outcome;         // "" while unfinished
  int steps_done = 0, steps = 0;
  std::string user, host;   // who started it (OS user, host); user "" when its journal lacks it
  StepSelection selection;  // the steps chosen when it was started
};

class PgStore {
 public:
  // Connects to `url`. With `create` (a writer), a missing schema is created and an older one
  // upgraded to kStoreSchemaVersion, when the role may; else an error names `runbook state init`.
  // Without (a reader), a missing schema is such an error and an older one is read as it is
  // (version 1: StoredRun's user, host and selection empty). A schema of a newer version than
  // kStoreSchemaVersion is refused. The session is named `application_name`.
  static Result<std::unique_ptr<PgStore>> Open(
      const std::string& url, bool create, const std::string& application_name = "runbook/state");
  ~PgStore();
  // The version of the store's schema: kStoreSchemaVersion, or older for a reader.
  int schema_version() const { return version_; }

  // Runs of `runbook` (every runbook when empty), oldest first.
  Result<std::vector<StoredRun>> ListRuns(const std::string& runbook);
  // The run with this id; nullopt when the store has none.
  Result<std::optional<StoredRun>> FindRun(const std::string& run_id);
  // The newest run of `runbook`.
  Result<std::optional<StoredRun>> LatestRun(const std::string& runbook);
  // The newest run of `runbook` when it did not end in success, as its records tell: a new run
  // must not start beside it.
  Result<std::optional<RunState>> UnfinishedRun(const std::string& runbook);
  // The run's journal records, in seq order.
  Result<std::vector<nlohmann::json>> Records(const std::string& run_id);
  // The steps that have a log, and one step's log.
  Result<std::vector<std::string>> LogSteps(const std::string& run_id);
  Result<std::string> Log(const std::string& run_id, const std::string& step);
  // What a follower has not seen yet (`runbook logs --follow`): the records after `after_seq`,
  // and the log pieces of each step after the chunk `seen` holds for it (-1 when it holds none),
  // in step and chunk order.
  Result<std::vector<nlohmann::json>> RecordsAfter(const std::string& run_id, int64_t after_seq);
  struct LogPiece {
    std::string step;
    int chunk = 0;
    std::string data;
  };
  Result<std::vector<LogPiece>> LogPiecesAfter(const std::string& run_id,
                                               const std::map<std::string, int>& seen);

  // Takes the run lock `lock_name` on this connection, held until it closes: nullopt when taken
  // (or already held by a session of the same application_name: the same run), else who holds it.
  Result<std::optional<TargetLockHolder>> TakeRunLock(const std::string& lock_name);
  // Who holds the run lock `lock_name` now, if anyone.
  Result<std::optional<TargetLockHolder>> RunLockHolder(const std::string& lock_name);
  // Whether the engine of run `run_id` has its lock connection to the store open now.
  Result<bool> EngineConnected(const std::string& run_id);

  // Writing a run as it goes (engine/store_mirror.h). StartRun records a run from its first
  // record (run_started); AddRecord one later record with the run's summary as it now stands;
  // AppendLog adds a piece of one step's log after what the store holds of it (`*at`, which it
  // advances). Each is one transaction, committed when it returns.
  Status StartRun(const nlohmann::json& run_started);
  Status AddRecord(const std::string& run_id, const nlohmann::json& record, int steps_done,
                   const std::string& outcome, const std::string& ended);
  // How much of a step's log the store holds: its bytes and chunks.
  struct LogExtent {
    int64_t bytes = 0;
    int chunks = 0;
  };
  Status AppendLog(const std::string& run_id, const std::string& step, std::string_view text,
                   LogExtent* at);
  Result<LogExtent> StoredLog(const std::string& run_id, const std::string& step);
  // The highest seq the store holds of the run: 0 for none, nullopt when it has no such run.
  Result<std::optional<int64_t>> LastSeq(const std::string& run_id);

  // Copies a finished or stopped run (its records and logs) into the store in one transaction.
  // False when the store already has a run with that id (nothing is changed).
  Result<bool> ImportRun(const std::vector<nlohmann::json>& records,
                         const std::vector<std::pair<std::string, std::string>>& logs);

 private:
  PgStore(std::unique_ptr<PgConnection> conn, int version);
  std::unique_ptr<PgConnection> conn_;
  int version_;  // the schema's
};

}  // namespace runbook
