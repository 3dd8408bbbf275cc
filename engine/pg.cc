#include "engine/pg.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include "engine/pg_internal.h"
#include "engine/sql_lex.h"

namespace runbook {
namespace {

std::string TrimTrailingNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Byte offset of the `chars`th UTF-8 character (0-based) in `text`.
size_t Utf8ByteOffset(std::string_view text, size_t chars) {
  size_t i = 0;
  while (i < text.size() && chars > 0) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    --chars;
  }
  return i;
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// "LINE n: text" and a caret under the 1-based character `position` of `sql`.
void AppendPositionLines(std::string_view sql, int position, std::string& out) {
  if (position <= 0) return;
  const size_t offset = Utf8ByteOffset(sql, static_cast<size_t>(position - 1));
  const LineCol lc = LineColAt(sql, offset);
  const size_t line_start = offset - lc.col;
  size_t line_end = sql.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = sql.size();
  std::string line(sql.substr(line_start, line_end - line_start));
  for (char& c : line) {
    if (c == '\t' || c == '\r') c = ' ';
  }
  const std::string prefix = "LINE " + std::to_string(lc.line + 1) + ": ";
  out += "\n" + prefix + line + "\n";
  out += std::string(prefix.size() + Utf8Length(line.substr(0, lc.col)), ' ') + "^";
}

}  // namespace

std::string FormatResultError(const PGresult* res, std::string_view sql) {
  auto field = [res](int code) -> std::string {
    const char* v = PQresultErrorField(res, code);
    return v ? v : "";
  };
  const std::string primary = field(PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) {
    const char* m = PQresultErrorMessage(res);
    return TrimTrailingNewlines(m && *m ? m : "unknown error");
  }
  std::string severity = field(PG_DIAG_SEVERITY);
  if (severity.empty()) severity = "ERROR";
  std::string out = severity + ": " + primary;
  const std::string state = field(PG_DIAG_SQLSTATE);
  if (!state.empty()) out += " (SQLSTATE " + state + ")";
  const std::string position = field(PG_DIAG_STATEMENT_POSITION);
  if (!position.empty()) AppendPositionLines(sql, std::atoi(position.c_str()), out);
  for (auto [code, label] :
       {std::pair{PG_DIAG_MESSAGE_DETAIL, "DETAIL: "}, std::pair{PG_DIAG_MESSAGE_HINT, "HINT: "},
        std::pair{PG_DIAG_CONTEXT, "CONTEXT: "}}) {
    const std::string v = field(code);
    if (!v.empty()) out += "\n" + std::string(label) + v;
  }
  return out;
}

std::string ConnError(PGconn* conn, std::string_view what) {
  const char* m = PQerrorMessage(conn);
  return std::string(what) + ": " + TrimTrailingNewlines(m && *m ? m : "connection lost");
}

bool WaitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  const int r = poll(&p, 1, ms);
  return r >= 0 || errno == EINTR;
}

std::string RunApplicationPrefix(const std::string& run_id) {
  return "runbook/" + run_id;
}

std::string StepApplicationName(const std::string& run_id, const std::string& step_id) {
  // The server truncates application_name to 63 bytes; the run prefix is what matters.
  return (RunApplicationPrefix(run_id) + "/" + step_id).substr(0, 63);
}

Result<std::unique_ptr<PgConnection>> ConnectForStep(StepEnv& env, const NameRef& db) {
  Result<DbTarget> target = env.Database(db);
  if (!target.ok()) return Result<std::unique_ptr<PgConnection>>::Error(target.message());
  auto conn = PgConnection::Connect(*target, StepApplicationName(env.run_id(), env.step_id()));
  if (!conn.ok()) return conn;
  conn.value()->SetNoticeSink(&env.Out());
  conn.value()->SetInterrupt({env.Cancel(), env.Deadline()});
  return conn;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const DbTarget& db,
                                                            const std::string& application_name,
                                                            const std::string& database) {
  // The conninfo's keywords, then ours, which override them (a later keyword wins). No value is
  // parsed again: expand_dbname is off, so a dbname holding "host=..." stays a database name.
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : db.conninfo) {
    keys.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keys.insert(keys.end(),
              {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
               "keepalives_count", "client_encoding", "application_name"});
  values.insert(values.end(), {"10", "1", "30", "10", "3", "UTF8", application_name.c_str()});
  if (!database.empty()) {
    keys.push_back("dbname");  // after the conninfo's own: the later one wins
    values.push_back(database.c_str());
  }
  if (!db.password.empty()) {
    keys.push_back("password");
    values.push_back(db.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  if (conn == nullptr) return Result<std::unique_ptr<PgConnection>>::Error("out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = ConnError(conn, "cannot connect to database " + db.name);
    PQfinish(conn);
    return Result<std::unique_ptr<PgConnection>>::Error(std::move(message));
  }
  std::unique_ptr<PgConnection> c(new PgConnection());
  c->conn_ = conn;
  c->cancel_ = PQgetCancel(conn);
  c->application_name_ = application_name;
  c->db_name_ = db.name;
  PQsetNoticeReceiver(conn, &PgConnection::OnNotice, c.get());
  return c;
}

PgConnection::~PgConnection() {
  if (cancel_) PQfreeCancel(cancel_);
  if (conn_) PQfinish(conn_);
}

void PgConnection::OnNotice(void* self, const PGresult* res) {
  auto* c = static_cast<PgConnection*>(self);
  ++c->notices_;
  if (c->notice_sink_ == nullptr) return;
  const char* sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
  const char* msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  std::string text = std::string(sev ? sev : "NOTICE") + ": " + (msg ? msg : "");
  const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  if (detail) text += "\nDETAIL: " + std::string(detail);
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    c->notice_sink_->Line(Stream::kInfo, std::string_view(text).substr(start, nl - start));
    start = nl + 1;
  }
}

void PgConnection::Cancel() {
  if (cancel_ == nullptr) return;
  char errbuf[256];
  PQcancel(cancel_, errbuf, sizeof errbuf);
}

int PgConnection::backend_pid() const {
  return PQbackendPID(conn_);
}

bool PgConnection::Idle() const {
  return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Status PgConnection::SetApplicationName(const std::string& name) {
  Result<PgResult> r = ExecOne("SELECT set_config('application_name', $1, false)", {name});
  if (!r.ok()) return Status::Error(r.message());
  application_name_ = name;
  return Status::Ok();
}

namespace {

std::string PoolKey(const DbTarget& db) {
  return db.name + '\0' + FormatConninfo(db.conninfo, /*mask_password=*/false) + '\0' + db.password;
}

}  // namespace

PgPool::~PgPool() = default;

std::unique_ptr<PgConnection> PgPool::Take(const DbTarget& db, const std::string& application_name,
                                           const PgInterrupt& interrupt) {
  const std::string key = PoolKey(db);
  while (true) {
    std::unique_ptr<PgConnection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [first, last] = idle_.equal_range(db.name);
      for (auto it = first; it != last; ++it) {
        if (it->second.first != key) continue;
        conn = std::move(it->second.second);
        idle_.erase(it);
        break;
      }
    }
    if (!conn) return nullptr;
    conn->SetInterrupt(interrupt);
    if (conn->SetApplicationName(application_name).ok()) return conn;
    // Gone meanwhile (a restarted server, a terminated backend): try the next one.
  }
}

void PgPool::Give(const DbTarget& db, std::unique_ptr<PgConnection> conn) {
  std::vector<std::unique_ptr<PgConnection>> closing;  // closed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  int& left = uses_[db.name];
  if (left > 0) --left;
  if (conn && left > 0 && conn->Idle()) {
    conn->SetNoticeSink(nullptr);  // the step's sink ends with the step
    conn->SetInterrupt({});
    idle_.emplace(db.name, std::make_pair(PoolKey(db), std::move(conn)));
    return;
  }
  closing.push_back(std::move(conn));
  if (left == 0) {
    auto [first, last] = idle_.equal_range(db.name);
    for (auto it = first; it != last; ++it) closing.push_back(std::move(it->second.second));
    idle_.erase(first, last);
  }
}

size_t PgPool::kept() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.size();
}

std::string PgConnection::QuoteIdentifier(std::string_view ident) const {
  char* q = PQescapeIdentifier(conn_, ident.data(), ident.size());
  if (q == nullptr) return "\"\"";  // only on invalid encoding; yields an SQL error, not injection
  std::string out(q);
  PQfreemem(q);
  return out;
}

std::string PgConnection::QuoteLiteral(std::string_view value) const {
  char* q = PQescapeLiteral(conn_, value.data(), value.size());
  if (q == nullptr) return "NULL::text";  // invalid encoding
  std::string out(q);
  PQfreemem(q);
  return out;
}

PgConnection::Interrupted PgConnection::CheckInterrupt() const {
  if (interrupt_.cancel.requested()) return Interrupted::kCancelled;
  if (interrupt_.deadline && std::chrono::steady_clock::now() >= *interrupt_.deadline) {
    return Interrupted::kTimedOut;
  }
  return Interrupted::kNo;
}

const char* InterruptMessage(bool timed_out) {
  return timed_out ? "timed out: the query was cancelled on the server"
                   : "cancelled: the query was cancelled on the server";
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const std::vector<std::string>& params) {
  return Run(sql, params, /*extended=*/!params.empty());
}

Result<PgResult> PgConnection::ExecOne(std::string_view sql,
                                       const std::vector<std::string>& params) {
  return Run(sql, params, /*extended=*/true);
}

Result<PgResult> PgConnection::Run(std::string_view sql, const std::vector<std::string>& params,
                                   bool extended) {
  if (Interrupted i = CheckInterrupt(); i != Interrupted::kNo) {
    return Result<PgResult>::Error(i == Interrupted::kTimedOut ? "timed out" : "cancelled");
  }
  const std::string text(sql);
  int sent;
  if (!extended) {
    sent = PQsendQuery(conn_, text.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    sent = PQsendQueryParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  }
  if (!sent) return Result<PgResult>::Error(ConnError(conn_, "cannot send query"));

  Interrupted interrupted = Interrupted::kNo;
  std::optional<std::string> error;
  PgResult out;
  while (true) {
    while (PQisBusy(conn_)) {
      if (interrupted == Interrupted::kNo) {
        interrupted = CheckInterrupt();
        if (interrupted != Interrupted::kNo) Cancel();
      }
      WaitReadable(PQsocket(conn_), kPollSliceMs);
      if (!PQconsumeInput(conn_)) return Result<PgResult>::Error(ConnError(conn_, "query failed"));
    }
    ResultPtr res(PQgetResult(conn_));
    if (!res) break;
    switch (PQresultStatus(res.get())) {
      case PGRES_TUPLES_OK:
      case PGRES_SINGLE_TUPLE: {
        out = PgResult();
        out.returns_rows = true;
        const int nf = PQnfields(res.get());
        const int nt = PQntuples(res.get());
        for (int f = 0; f < nf; ++f) {
          out.columns.emplace_back(PQfname(res.get(), f));
          out.column_types.push_back(PQftype(res.get(), f));
        }
        out.rows.reserve(nt);
        for (int t = 0; t < nt; ++t) {
          PgRow row(nf);
          for (int f = 0; f < nf; ++f) {
            if (!PQgetisnull(res.get(), t, f)) {
              row[f].emplace(PQgetvalue(res.get(), t, f), PQgetlength(res.get(), t, f));
            }
          }
          out.rows.push_back(std::move(row));
        }
        out.command_tag = PQcmdStatus(res.get());
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        out = PgResult();
        out.command_tag = PQcmdStatus(res.get());
        break;
      case PGRES_COPY_IN:
        PQputCopyEnd(conn_, "COPY FROM STDIN is not supported here");
        if (!error) error = "COPY FROM STDIN / TO STDOUT is not supported in sql (use copy_rows)";
        break;
      case PGRES_COPY_OUT: {
        char* buf = nullptr;
        while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
        if (!error) error = "COPY FROM STDIN / TO STDOUT is not supported in sql (use copy_rows)";
        break;
      }
      default:
        if (!error) error = FormatResultError(res.get(), sql);
        break;
    }
  }
  if (interrupted != Interrupted::kNo) {
    return Result<PgResult>::Error(InterruptMessage(interrupted == Interrupted::kTimedOut));
  }
  if (error) return Result<PgResult>::Error(*error);
  return out;
}

}  // namespace runbook
