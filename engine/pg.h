// PostgreSQL connections. Only engine/pg*.cc and engine/pg_internal.h include libpq-fe.h.
//
// A PgConnection is one libpq connection made from a DbTarget (conninfo keywords, password passed
// apart and never logged). Every query is sent asynchronously and waited for in 50 ms
// slices, so a set CancelToken or a passed deadline cancels it on the server (PQcancel) within
// about 50 ms plus the server's reaction. Errors come back as values whose message reads like
// psql's: severity, text and SQLSTATE, the statement line with a caret under the error position,
// then DETAIL, HINT and CONTEXT.
//
// A PgConnection must not be used by two threads at once, except Cancel(), which is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cancel.h"
#include "engine/diag.h"
#include "engine/output.h"
#include "engine/step_env.h"

struct pg_conn;
struct pg_cancel;
struct pg_result;

namespace runbook {

using PgRow = std::vector<std::optional<std::string>>;  // nullopt is SQL NULL

struct PgResult {
  bool returns_rows = false;           // a SELECT-like statement (even with zero rows)
  std::vector<std::string> columns;    // column names when returns_rows
  std::vector<uint32_t> column_types;  // type OIDs, parallel to columns
  std::vector<PgRow> rows;
  std::string command_tag;  // "SELECT 3", "UPDATE 1", ...
};

// When a running query is cancelled on the server.
struct PgInterrupt {
  CancelToken cancel;                                             // set: "cancelled"
  std::optional<std::chrono::steady_clock::time_point> deadline;  // passed: "timed out"
};

class PgConnection {
 public:
  // Connects with PQconnectdbParams: `db.conninfo`'s keywords as they are (expand_dbname off),
  // then connect_timeout=10, TCP keepalives, client_encoding=UTF8 and `application_name`
  // override what conninfo says; `db.password`, when set, is passed as the password keyword.
  // Errors name `db.name` and never contain the conninfo or the password. `database`, when
  // given, is the database to connect to on db's server instead of the one conninfo names.
  static Result<std::unique_ptr<PgConnection>> Connect(const DbTarget& db,
                                                       const std::string& application_name,
                                                       const std::string& database = "");
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Server notices and warnings become kInfo lines "NOTICE: ..." on `out` (nullptr: dropped).
  void SetNoticeSink(OutputSink* out) { notice_sink_ = out; }
  void SetInterrupt(PgInterrupt interrupt) { interrupt_ = std::move(interrupt); }

  // Runs `sql`. Without params it goes through the simple protocol, so it may be any statement,
  // or several separated by ';' (the result is the last one's). With params ($1..$n, text values,
  // types inferred by the server) it must be a single statement. COPY FROM STDIN / TO STDOUT is
  // refused (use StreamCopy).
  Result<PgResult> Exec(std::string_view sql, const std::vector<std::string>& params = {});
  // Like Exec, but always through the extended protocol: the server refuses more than one
  // statement, so `sql` cannot end the caller's transaction and go on (used for guards).
  Result<PgResult> ExecOne(std::string_view sql, const std::vector<std::string>& params = {});

  // Asks the server to cancel the running query. Thread-safe; harmless when idle.
  void Cancel();

  int backend_pid() const;
  // Connected, with no transaction open and no command running: fit for another step.
  bool Idle() const;
  // Sets the session's application_name (a bind parameter of set_config: one round trip).
  Status SetApplicationName(const std::string& name);
  const std::string& application_name() const { return application_name_; }
  const std::string& db_name() const { return db_name_; }
  // Quoting for generated SQL ("my table" -> "\"my table\"", it's -> 'it''s').
  std::string QuoteIdentifier(std::string_view ident) const;
  std::string QuoteLiteral(std::string_view value) const;

 private:
  friend struct PgCopier;
  PgConnection() = default;
  enum class Interrupted { kNo, kCancelled, kTimedOut };
  Interrupted CheckInterrupt() const;
  Result<PgResult> Run(std::string_view sql, const std::vector<std::string>& params, bool extended);
  static void OnNotice(void* self, const ::pg_result* res);

  pg_conn* conn_ = nullptr;
  pg_cancel* cancel_ = nullptr;
  OutputSink* notice_sink_ = nullptr;
  int64_t notices_ = 0;  // counts notices received, to tell them from errors during COPY IN
  PgInterrupt interrupt_;
  std::string application_name_;
  std::string db_name_;
};

// Connections a run keeps between its copy_rows steps. A step gives its connections back when it
// ends; a later step to the same database (same name, conninfo and password) takes a kept one
// instead of connecting anew: a new connection costs a server process start and a backend whose
// catalog caches are cold (bench/copy_rows/README.md has the figures).
// Only connections with no transaction open are kept, and only while uses of their database
// remain (the pool is told how many the run's steps make): no idle session of the run lingers
// past the last step that needs it (an idle session would hold up e.g. DROP DATABASE). What is
// left (uses that never came: skipped or failed steps) closes with the pool, at the end of the
// run. Thread-safe.
class PgPool {
 public:
  // `uses`: by database name, how many connections the run's steps will ask for.
  explicit PgPool(std::map<std::string, int> uses) : uses_(std::move(uses)) {}
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A kept connection to `db`, its application_name set (which also proves it alive: a kept
  // connection whose server went away meanwhile is dropped) under `interrupt`, which it keeps;
  // nullptr when there is none. The caller sets its notice sink.
  std::unique_ptr<PgConnection> Take(const DbTarget& db, const std::string& application_name,
                                     const PgInterrupt& interrupt);
  // One use of `db` is over; `conn` (may be null) is kept when it is Idle() and uses of db
  // remain, else closed, and with the last use every kept connection to db is closed.
  void Give(const DbTarget& db, std::unique_ptr<PgConnection> conn);
  // Connections kept now (for tests).
  size_t kept() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> uses_;
  // By database name: (name, conninfo and password joined, connection).
  std::multimap<std::string, std::pair<std::string, std::unique_ptr<PgConnection>>> idle_;
};

struct CopyStats {
  int64_t rows = 0;   // as counted by the target's COPY command tag
  int64_t bytes = 0;  // COPY data bytes streamed
};

struct CopyOptions {
  // Rows per COPY statement on the target; 0 for one statement. The target runs a statement's
  // after-row triggers (foreign key checks among them) at its end: in statements of a few
  // thousand rows they run while the source sends the next ones instead of after the last.
  int64_t rows_per_statement = 0;
  // While the target finishes a statement, rows from the source wait in memory up to about this
  // much; beyond it the source waits too.
  size_t backlog_bytes = 64 * 1024 * 1024;
  // Run on the target (e.g. a TRUNCATE) after the source's COPY has been sent and before the
  // target's starts, so that the source server works on its query meanwhile. An error stops the
  // copy with that message.
  std::function<Status()> prepare_target;
};

// Streams `copy_out_sql` (a COPY ... TO STDOUT) on `src` into `copy_in_sql` (a COPY ... FROM
// STDIN) on `dst`, in the transactions the caller opened. `on_row`, when set, sees every data row
// as the source sent it. The target is watched every 1000 rows: an error there (e.g. a foreign
// key violation) stops the copy at once instead of after the last row. The source's interrupt
// settings apply (cancel, deadline); on any failure both sides are stopped (PQcancel on the
// source, CopyFail on the target) and the caller must ROLLBACK both.
Result<CopyStats> StreamCopy(PgConnection& src, std::string_view copy_out_sql, PgConnection& dst,
                             std::string_view copy_in_sql,
                             const std::function<void(std::string_view row)>& on_row = nullptr,
                             const CopyOptions& options = {});

// Decodes one field of a text-format COPY row: "\N" is NULL, backslash escapes are undone.
// Returns the `index`th (0-based) tab-separated field; nullopt for NULL or a missing field.
std::optional<std::string> CopyTextField(std::string_view row, size_t index);

// The connection a step or guard uses for `db`: resolved through env.Database, application_name
// StepApplicationName(run, step), notices to env.Out(), interrupted by env.Cancel() and
// env.Deadline(). Errors read "cannot connect to database NAME: ...".
Result<std::unique_ptr<PgConnection>> ConnectForStep(StepEnv& env, const NameRef& db);

// The application_name of every connection of a run: "runbook/<run id>", then "/<step id>".
std::string RunApplicationPrefix(const std::string& run_id);
std::string StepApplicationName(const std::string& run_id, const std::string& step_id);

}  // namespace runbook
