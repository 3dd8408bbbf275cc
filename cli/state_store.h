// `runbook state init` and `runbook state import`: setting up the team's run store in PostgreSQL
// (engine/pg_store.h, docs/team.md) and copying a state directory's history into it.
#pragma once

#include <string>

namespace runbook {

// Creates the store's schema at `url`, or with `print_sql` only prints its SQL (for a DBA).
int CmdStateInit(const std::string& url, bool print_sql);

// Copies every run of the state directory `dir` whose journal reads into the store at `url`;
// runs the store already has are left as they are. Exit 0 when every readable run is there.
int CmdStateImport(const std::string& url, const std::string& dir);

}  // namespace runbook
