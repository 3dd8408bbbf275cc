#include "engine/pg_ping.h"

#include <libpq-fe.h>

#include <vector>

namespace runbook {

Status PingServer(const DbTarget& db) {
  // The conninfo's keywords as they are (expand_dbname off, as PgConnection::Connect), and a
  // timeout: a host that drops packets must not hold the plan.
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : db.conninfo) {
    keys.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back("connect_timeout");
  values.push_back("10");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  switch (PQpingParams(keys.data(), values.data(), /*expand_dbname=*/0)) {
    case PQPING_OK:
      return Status::Ok();
    case PQPING_REJECT:
      return Status::Error(
          "its server refuses connections (starting up, shutting down or in "
          "recovery)");
    case PQPING_NO_RESPONSE:
      return Status::Error("its server does not answer");
    case PQPING_NO_ATTEMPT:
      break;
  }
  return Status::Error("its connection parameters are not valid");
}

}  // namespace runbook
