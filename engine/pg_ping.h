// Whether a database's server answers, without logging in: libpq's PQpingParams. What a plan
// needs to call a server unreachable: a server that rejects the role or database still answers,
// and the run may create that role or database before it connects.
#pragma once

#include "engine/diag.h"
#include "engine/step_env.h"

namespace runbook {

// Ok when the server of `db` accepts connections; else why not ("does not answer", "refuses
// connections: starting up, shutting down or in recovery"). Never names the conninfo or password.
Status PingServer(const DbTarget& db);

}  // namespace runbook
