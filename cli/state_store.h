// `runbook state init` and `runbook state import`: setting up the team's run store in PostgreSQL
// (engine/pg_store.h, docs/team.md) and copying a state directory's history into it; and the
// way back, a run of the store copied into this machine's state directory for `resume`.
#pragma once

#include <string>

#include "engine/diag.h"
#include "engine/state_dir.h"

namespace runbook {

// Creates the store's schema at `url`, or with `print_sql` only prints its SQL (for a DBA).
int CmdStateInit(const std::string& url, bool print_sql);

// Copies every run of the state directory `dir` whose journal reads into the store at `url`;
// runs the store already has are left as they are. Exit 0 when every readable run is there.
int CmdStateImport(const std::string& url, const std::string& dir);

class PgStore;
// Copies the run `run_id` of the store (its journal records and step logs, as they are there)
// into the state directory `state`, so that this machine can resume a run another operator
// started elsewhere. Refuses when the state directory already has a run of that id.
Result<RunInfo> FetchRun(PgStore& store, const std::string& state, const std::string& run_id);

}  // namespace runbook
