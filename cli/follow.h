// `runbook status --follow` and `runbook logs --follow`: reattaching to a run from any terminal
// (after a lost ssh session the run goes on detached, docs/DECISIONS.md issue 15), against the
// state directory or the team's state store. The follower prints what the run's own terminal
// would: `> step` when a step starts, its log lines, `= step outcome` when it ends, until the run
// ends, and exits with the run's exit code. Ctrl-C ends the following, never the run.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/state_dir.h"

namespace runbook {

class PgStore;

// Where a followed run is read from.
class FollowSource {
 public:
  virtual ~FollowSource() = default;
  // The run's records after `after_seq`, in order.
  virtual Result<std::vector<nlohmann::json>> Records(int64_t after_seq) = 0;
  // What the logs of `steps` gained since the last call, as (step, bytes): whole lines, or
  // everything once `all` (the run has ended). The first call starts at the beginning of each
  // log, or at its current end after SkipToEnd.
  virtual Result<std::vector<std::pair<std::string, std::string>>> NewLog(
      const std::vector<std::string>& steps, bool all) = 0;
  virtual Status SkipToEnd(const std::vector<std::string>& steps) = 0;
  // Whether the run's engine has let go of where the run is kept, wherever it runs: the state
  // store sees the engine's lock connection close (engine/pg_store.h); a state directory cannot
  // tell (false), and the engine's process is looked at instead, when it ran on this machine.
  virtual Result<bool> EngineDisconnected() = 0;
};

// A run of the state directory (its journal and log files).
std::unique_ptr<FollowSource> FileFollowSource(const RunInfo& run);
// A run of the state store (engine/pg_store.h; not owned).
std::unique_ptr<FollowSource> StoreFollowSource(PgStore* store, const std::string& run_id);

struct FollowOptions {
  std::string step;         // only this step's lines and transitions; "" for every step
  bool from_start = false;  // print the logs from their beginning (logs), else only new lines
};

// Follows the run until it ends and returns its exit code; 4 when its engine died on this host,
// or let go of the state store, without finishing it; 130 on Ctrl-C (the run goes on).
int FollowRun(FollowSource& source, const FollowOptions& options);

}  // namespace runbook
