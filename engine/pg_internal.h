// Shared by engine/pg.cc and engine/pg_copy.cc; not for use elsewhere.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

namespace runbook {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// How long a wait on a server lasts before cancel and deadline are looked at again.
constexpr int kPollSliceMs = 50;

// A server error as "ERROR: message (SQLSTATE x)", the position in `sql` shown as psql does,
// then DETAIL, HINT and CONTEXT lines.
std::string FormatResultError(const PGresult* res, std::string_view sql);
// "`what`: " and the connection's last error message.
std::string ConnError(PGconn* conn, std::string_view what);
// Waits until `fd` is readable or `ms` elapse. Returns false on poll failure other than EINTR.
bool WaitReadable(int fd, int ms);
// What a statement stopped by our cancel or deadline reports.
const char* InterruptMessage(bool timed_out);

}  // namespace runbook
