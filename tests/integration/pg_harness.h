// The PostgreSQL 15 server of the integration tests: one throwaway cluster per build directory,
// shared by the test processes (ctest runs each test alone), started on demand by a gtest global
// environment (pg_harness_test.cc) through tests/harness/pg_cluster.sh and stopped by the
// script's watchdog ~10 s after the last test process ended. Each test works in its own
// database (CreateTestDb), so tests may run in parallel.
#pragma once

#include <memory>
#include <string>

#include "engine/diag.h"
#include "engine/pg.h"
#include "engine/step_env.h"

namespace runbook::testing {

struct PgCluster {
  std::string dir;  // holds data/ and the unix socket
  int port = 0;
  // Over the unix socket as the superuser postgres (trust).
  DbTarget Target(const std::string& db, const std::string& name = "db") const {
    return {name,
            {{"host", dir}, {"port", std::to_string(port)}, {"dbname", db}, {"user", "postgres"}},
            "",
            ""};
  }
  // Over TCP as `pwuser`, who needs a password (pw-secret).
  DbTarget PasswordTarget(const std::string& db, const std::string& password) const {
    return {
        "pwdb",
        {{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"dbname", db}, {"user", "pwuser"}},
        password,
        ""};
  }
};

// The running cluster (the test fails if it could not start).
const PgCluster& Pg();

// A fresh, empty database named after the current test plus `suffix`; returns its name.
std::string CreateTestDb(const std::string& suffix = "");

// A superuser connection to `db`; fails the test (ADD_FAILURE) and returns null on error.
std::unique_ptr<PgConnection> Connect(const std::string& db,
                                      const std::string& application = "runbook-test");

// Runs `sql` on `db` as the superuser; ADD_FAILURE with the error message on failure.
PgResult MustExec(const std::string& db, const std::string& sql);

}  // namespace runbook::testing
