#include "engine/pg.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include "engine/sql_lex.h"

namespace runbook {
namespace {

// libpq, loaded when the first connection is made. Linked normally, it and the libraries it
// pulls in (OpenSSL, GnuTLS, Kerberos, LDAP, ...: 22 of the binary's 28) took ~22 ms of CPU at
// every start of `runbook`, most of `--version` and 15% of `plan` for 10k steps, which never
// connect.
struct LibPq {
  decltype(&::PQbackendPID) PQbackendPID;
  decltype(&::PQcancel) PQcancel;
  decltype(&::PQclear) PQclear;
  decltype(&::PQcmdStatus) PQcmdStatus;
  decltype(&::PQcmdTuples) PQcmdTuples;
  decltype(&::PQconnectdbParams) PQconnectdbParams;
  decltype(&::PQconsumeInput) PQconsumeInput;
  decltype(&::PQerrorMessage) PQerrorMessage;
  decltype(&::PQescapeIdentifier) PQescapeIdentifier;
  decltype(&::PQescapeLiteral) PQescapeLiteral;
  decltype(&::PQfinish) PQfinish;
  decltype(&::PQfname) PQfname;
  decltype(&::PQfreeCancel) PQfreeCancel;
  decltype(&::PQfreemem) PQfreemem;
  decltype(&::PQftype) PQftype;
  decltype(&::PQgetCancel) PQgetCancel;
  decltype(&::PQgetCopyData) PQgetCopyData;
  decltype(&::PQgetResult) PQgetResult;
  decltype(&::PQgetisnull) PQgetisnull;
  decltype(&::PQgetlength) PQgetlength;
  decltype(&::PQgetvalue) PQgetvalue;
  decltype(&::PQisBusy) PQisBusy;
  decltype(&::PQnfields) PQnfields;
  decltype(&::PQntuples) PQntuples;
  decltype(&::PQputCopyData) PQputCopyData;
  decltype(&::PQputCopyEnd) PQputCopyEnd;
  decltype(&::PQresultErrorField) PQresultErrorField;
  decltype(&::PQresultErrorMessage) PQresultErrorMessage;
  decltype(&::PQresultStatus) PQresultStatus;
  decltype(&::PQsendQuery) PQsendQuery;
  decltype(&::PQsendQueryParams) PQsendQueryParams;
  decltype(&::PQsetNoticeReceiver) PQsetNoticeReceiver;
  decltype(&::PQsocket) PQsocket;
  decltype(&::PQstatus) PQstatus;
  decltype(&::PQtransactionStatus) PQtransactionStatus;
};

// The loaded functions, or nullptr when libpq cannot be loaded (`error` says why).
const LibPq* LoadLibPq(std::string* error) {
  static std::string load_error;
  static const LibPq* const api = []() -> const LibPq* {
    void* lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = dlerror();
      load_error = e ? e : "libpq.so.5: cannot load";
      return nullptr;
    }
    static LibPq loaded;
    bool ok = true;
    auto Load = [&](auto* fn, const char* name) {
      void* sym = dlsym(lib, name);
      if (sym == nullptr) ok = false;
      *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(sym);
    };
    Load(&loaded.PQbackendPID, "PQbackendPID");
    Load(&loaded.PQcancel, "PQcancel");
    Load(&loaded.PQclear, "PQclear");
    Load(&loaded.PQcmdStatus, "PQcmdStatus");
    Load(&loaded.PQcmdTuples, "PQcmdTuples");
    Load(&loaded.PQconnectdbParams, "PQconnectdbParams");
    Load(&loaded.PQconsumeInput, "PQconsumeInput");
    Load(&loaded.PQerrorMessage, "PQerrorMessage");
    Load(&loaded.PQescapeIdentifier, "PQescapeIdentifier");
    Load(&loaded.PQescapeLiteral, "PQescapeLiteral");
    Load(&loaded.PQfinish, "PQfinish");
    Load(&loaded.PQfname, "PQfname");
    Load(&loaded.PQfreeCancel, "PQfreeCancel");
    Load(&loaded.PQfreemem, "PQfreemem");
    Load(&loaded.PQftype, "PQftype");
    Load(&loaded.PQgetCancel, "PQgetCancel");
    Load(&loaded.PQgetCopyData, "PQgetCopyData");
    Load(&loaded.PQgetResult, "PQgetResult");
    Load(&loaded.PQgetisnull, "PQgetisnull");
    Load(&loaded.PQgetlength, "PQgetlength");
    Load(&loaded.PQgetvalue, "PQgetvalue");
    Load(&loaded.PQisBusy, "PQisBusy");
    Load(&loaded.PQnfields, "PQnfields");
    Load(&loaded.PQntuples, "PQntuples");
    Load(&loaded.PQputCopyData, "PQputCopyData");
    Load(&loaded.PQputCopyEnd, "PQputCopyEnd");
    Load(&loaded.PQresultErrorField, "PQresultErrorField");
    Load(&loaded.PQresultErrorMessage, "PQresultErrorMessage");
    Load(&loaded.PQresultStatus, "PQresultStatus");
    Load(&loaded.PQsendQuery, "PQsendQuery");
    Load(&loaded.PQsendQueryParams, "PQsendQueryParams");
    Load(&loaded.PQsetNoticeReceiver, "PQsetNoticeReceiver");
    Load(&loaded.PQsocket, "PQsocket");
    Load(&loaded.PQstatus, "PQstatus");
    Load(&loaded.PQtransactionStatus, "PQtransactionStatus");
    if (!ok) {
      load_error = "libpq.so.5 lacks functions this program needs (an older libpq?)";
      return nullptr;
    }
    return &loaded;
  }();
  if (api == nullptr && error != nullptr) *error = load_error;
  return api;
}

// REQUIRES: LoadLibPq succeeded (every libpq object comes from a connection it made).
const LibPq& Pq() {
  return *LoadLibPq(nullptr);
}

constexpr int kPollSliceMs = 50;
constexpr int64_t kTargetCheckEvery = 1000;

struct ResultDeleter {
  void operator()(PGresult* r) const { Pq().PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

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

std::string FormatResultError(const PGresult* res, std::string_view sql) {
  auto field = [res](int code) -> std::string {
    const char* v = Pq().PQresultErrorField(res, code);
    return v ? v : "";
  };
  const std::string primary = field(PG_DIAG_MESSAGE_PRIMARY);
  if (primary.empty()) {
    const char* m = Pq().PQresultErrorMessage(res);
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
  const char* m = Pq().PQerrorMessage(conn);
  return std::string(what) + ": " + TrimTrailingNewlines(m && *m ? m : "connection lost");
}

// Waits until `fd` is readable or `ms` elapse. Returns false on poll failure other than EINTR.
bool WaitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  const int r = poll(&p, 1, ms);
  return r >= 0 || errno == EINTR;
}

}  // namespace

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
                                                            const std::string& application_name) {
  // Later keywords override what the expanded conninfo (first, as dbname) sets.
  std::vector<const char*> keys = {"dbname",          "connect_timeout",     "keepalives",
                                   "keepalives_idle", "keepalives_interval", "keepalives_count",
                                   "client_encoding", "application_name"};
  std::vector<const char*> values = {db.conninfo.c_str(),     "10", "1", "30", "10", "3", "UTF8",
                                     application_name.c_str()};
  if (!db.password.empty()) {
    keys.push_back("password");
    values.push_back(db.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::string load_error;
  if (LoadLibPq(&load_error) == nullptr) {
    return Result<std::unique_ptr<PgConnection>>::Error("cannot connect to database " + db.name +
                                                        ": " + load_error);
  }
  PGconn* conn = Pq().PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Result<std::unique_ptr<PgConnection>>::Error("out of memory");
  if (Pq().PQstatus(conn) != CONNECTION_OK) {
    std::string message = ConnError(conn, "cannot connect to database " + db.name);
    Pq().PQfinish(conn);
    return Result<std::unique_ptr<PgConnection>>::Error(std::move(message));
  }
  std::unique_ptr<PgConnection> c(new PgConnection());
  c->conn_ = conn;
  c->cancel_ = Pq().PQgetCancel(conn);
  c->application_name_ = application_name;
  c->db_name_ = db.name;
  Pq().PQsetNoticeReceiver(conn, &PgConnection::OnNotice, c.get());
  return c;
}

PgConnection::~PgConnection() {
  if (cancel_) Pq().PQfreeCancel(cancel_);
  if (conn_) Pq().PQfinish(conn_);
}

void PgConnection::OnNotice(void* self, const PGresult* res) {
  auto* c = static_cast<PgConnection*>(self);
  ++c->notices_;
  if (c->notice_sink_ == nullptr) return;
  const char* sev = Pq().PQresultErrorField(res, PG_DIAG_SEVERITY);
  const char* msg = Pq().PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  std::string text = std::string(sev ? sev : "NOTICE") + ": " + (msg ? msg : "");
  const char* detail = Pq().PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
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
  Pq().PQcancel(cancel_, errbuf, sizeof errbuf);
}

int PgConnection::backend_pid() const {
  return Pq().PQbackendPID(conn_);
}

bool PgConnection::Idle() const {
  return Pq().PQstatus(conn_) == CONNECTION_OK && Pq().PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Status PgConnection::SetApplicationName(const std::string& name) {
  Result<PgResult> r = ExecOne("SELECT set_config('application_name', $1, false)", {name});
  if (!r.ok()) return Status::Error(r.message());
  application_name_ = name;
  return Status::Ok();
}

namespace {

std::string PoolKey(const DbTarget& db) {
  return db.name + '\0' + db.conninfo + '\0' + db.password;
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
  char* q = Pq().PQescapeIdentifier(conn_, ident.data(), ident.size());
  if (q == nullptr) return "\"\"";  // only on invalid encoding; yields an SQL error, not injection
  std::string out(q);
  Pq().PQfreemem(q);
  return out;
}

std::string PgConnection::QuoteLiteral(std::string_view value) const {
  char* q = Pq().PQescapeLiteral(conn_, value.data(), value.size());
  if (q == nullptr) return "NULL::text";  // invalid encoding
  std::string out(q);
  Pq().PQfreemem(q);
  return out;
}

PgConnection::Interrupted PgConnection::CheckInterrupt() const {
  if (interrupt_.cancel.requested()) return Interrupted::kCancelled;
  if (interrupt_.deadline && std::chrono::steady_clock::now() >= *interrupt_.deadline) {
    return Interrupted::kTimedOut;
  }
  return Interrupted::kNo;
}

namespace {

const char* InterruptMessage(bool timed_out) {
  return timed_out ? "timed out: the query was cancelled on the server"
                   : "cancelled: the query was cancelled on the server";
}

}  // namespace

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
    sent = Pq().PQsendQuery(conn_, text.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    sent = Pq().PQsendQueryParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  }
  if (!sent) return Result<PgResult>::Error(ConnError(conn_, "cannot send query"));

  Interrupted interrupted = Interrupted::kNo;
  std::optional<std::string> error;
  PgResult out;
  while (true) {
    while (Pq().PQisBusy(conn_)) {
      if (interrupted == Interrupted::kNo) {
        interrupted = CheckInterrupt();
        if (interrupted != Interrupted::kNo) Cancel();
      }
      WaitReadable(Pq().PQsocket(conn_), kPollSliceMs);
      if (!Pq().PQconsumeInput(conn_))
        return Result<PgResult>::Error(ConnError(conn_, "query failed"));
    }
    ResultPtr res(Pq().PQgetResult(conn_));
    if (!res) break;
    switch (Pq().PQresultStatus(res.get())) {
      case PGRES_TUPLES_OK:
      case PGRES_SINGLE_TUPLE: {
        out = PgResult();
        out.returns_rows = true;
        const int nf = Pq().PQnfields(res.get());
        const int nt = Pq().PQntuples(res.get());
        for (int f = 0; f < nf; ++f) {
          out.columns.emplace_back(Pq().PQfname(res.get(), f));
          out.column_types.push_back(Pq().PQftype(res.get(), f));
        }
        out.rows.reserve(nt);
        for (int t = 0; t < nt; ++t) {
          PgRow row(nf);
          for (int f = 0; f < nf; ++f) {
            if (!Pq().PQgetisnull(res.get(), t, f)) {
              row[f].emplace(Pq().PQgetvalue(res.get(), t, f), Pq().PQgetlength(res.get(), t, f));
            }
          }
          out.rows.push_back(std::move(row));
        }
        out.command_tag = Pq().PQcmdStatus(res.get());
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        out = PgResult();
        out.command_tag = Pq().PQcmdStatus(res.get());
        break;
      case PGRES_COPY_IN:
        Pq().PQputCopyEnd(conn_, "COPY FROM STDIN is not supported here");
        if (!error) error = "COPY FROM STDIN / TO STDOUT is not supported in sql (use copy_rows)";
        break;
      case PGRES_COPY_OUT: {
        char* buf = nullptr;
        while (Pq().PQgetCopyData(conn_, &buf, 0) > 0) Pq().PQfreemem(buf);
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

// StreamCopy needs the private parts of both connections.
struct PgCopier {
  PgConnection& src;
  PgConnection& dst;

  // Sends `sql` and waits for its first result, which must be `expected` (a COPY state).
  static Status Start(PgConnection& c, std::string_view sql, ExecStatusType expected) {
    const std::string text(sql);
    if (!Pq().PQsendQuery(c.conn_, text.c_str())) return Status::Error(ConnError(c.conn_, "COPY"));
    bool cancel_sent = false;
    while (Pq().PQisBusy(c.conn_)) {
      if (!cancel_sent && c.CheckInterrupt() != PgConnection::Interrupted::kNo) {
        c.Cancel();
        cancel_sent = true;
      }
      WaitReadable(Pq().PQsocket(c.conn_), kPollSliceMs);
      if (!Pq().PQconsumeInput(c.conn_)) return Status::Error(ConnError(c.conn_, "COPY"));
    }
    ResultPtr res(Pq().PQgetResult(c.conn_));
    if (res && Pq().PQresultStatus(res.get()) == expected) return Status::Ok();
    std::string message = res ? FormatResultError(res.get(), sql) : "COPY did not start";
    while (ResultPtr more{Pq().PQgetResult(c.conn_)}) {
    }
    return Status::Error(std::move(message));
  }

  // Reads results until none is left; returns the first error, or the last command tag.
  static Result<std::string> Finish(PgConnection& c, std::string_view sql) {
    std::optional<std::string> error;
    std::string tag;
    while (true) {
      while (Pq().PQisBusy(c.conn_)) {
        WaitReadable(Pq().PQsocket(c.conn_), kPollSliceMs);
        if (!Pq().PQconsumeInput(c.conn_))
          return Result<std::string>::Error(ConnError(c.conn_, "COPY"));
      }
      ResultPtr res(Pq().PQgetResult(c.conn_));
      if (!res) break;
      if (Pq().PQresultStatus(res.get()) == PGRES_COMMAND_OK) {
        tag = Pq().PQcmdTuples(res.get());
      } else if (!error) {
        error = FormatResultError(res.get(), sql);
      }
    }
    if (error) return Result<std::string>::Error(*error);
    return tag;
  }

  // Stops the source's COPY OUT: cancel it on the server and discard what is still in flight.
  void AbortSource() {
    src.Cancel();
    char* buf = nullptr;
    int n;
    while ((n = Pq().PQgetCopyData(src.conn_, &buf, 0)) > 0) Pq().PQfreemem(buf);
    (void)Finish(src, "");
  }

  // Ends the target's COPY IN with a failure and returns the target's own error if it had one.
  std::optional<std::string> AbortTarget(std::string_view sql, const char* reason) {
    Pq().PQputCopyEnd(dst.conn_, reason);
    Result<std::string> r = Finish(dst, sql);
    if (!r.ok() && r.message().find(reason) == std::string::npos) return r.message();
    return std::nullopt;
  }

  // True when the target sent something during COPY IN that is not a notice: an error.
  bool TargetFailed() {
    const int fd = Pq().PQsocket(dst.conn_);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    // During COPY IN libpq handles notices as they arrive but keeps an ErrorResponse unparsed, so
    // input that yields no notice is an error (or a rare ParameterStatus; then the COPY fails with
    // "aborted", and a retry helps). A message split across packets is waited for briefly.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int64_t before = dst.notices_;
      if (!Pq().PQconsumeInput(dst.conn_)) return true;
      (void)Pq().PQisBusy(dst.conn_);  // parses the input: notices are delivered, an error is kept
      if (dst.notices_ != before) return false;
      p.revents = 0;
      if (poll(&p, 1, 20) <= 0) return true;
    }
    return true;
  }

  // A cancel may land anywhere (even while the COPY starts): report it as such, not as the
  // 57014 error it causes.
  Result<CopyStats> RunReportingInterrupts(std::string_view out_sql, std::string_view in_sql,
                                           const std::function<void(std::string_view)>& on_row) {
    Result<CopyStats> r = Run(out_sql, in_sql, on_row);
    const PgConnection::Interrupted i = src.CheckInterrupt();
    if (!r.ok() && i != PgConnection::Interrupted::kNo) {
      return Result<CopyStats>::Error(InterruptMessage(i == PgConnection::Interrupted::kTimedOut));
    }
    return r;
  }

  Result<CopyStats> Run(std::string_view out_sql, std::string_view in_sql,
                        const std::function<void(std::string_view)>& on_row) {
    if (Status s = Start(dst, in_sql, PGRES_COPY_IN); !s.ok()) {
      return Result<CopyStats>::Error("target: " + s.message());
    }
    if (Status s = Start(src, out_sql, PGRES_COPY_OUT); !s.ok()) {
      (void)AbortTarget(in_sql, "source failed");
      if (src.CheckInterrupt() != PgConnection::Interrupted::kNo) {
        return Result<CopyStats>::Error(
            InterruptMessage(src.CheckInterrupt() == PgConnection::Interrupted::kTimedOut));
      }
      return Result<CopyStats>::Error("source: " + s.message());
    }
    CopyStats stats;
    int64_t since_check = 0;
    std::optional<std::string> failure;
    PgConnection::Interrupted interrupted = PgConnection::Interrupted::kNo;
    while (true) {
      char* buf = nullptr;
      const int n = Pq().PQgetCopyData(src.conn_, &buf, /*async=*/1);
      if (n > 0) {
        if (on_row) on_row(std::string_view(buf, n));
        const int put = Pq().PQputCopyData(dst.conn_, buf, n);
        Pq().PQfreemem(buf);
        if (put != 1) {
          failure = "target: " + ConnError(dst.conn_, "COPY");
          break;
        }
        stats.bytes += n;
        if (++since_check >= kTargetCheckEvery) {
          since_check = 0;
          interrupted = src.CheckInterrupt();
          if (interrupted != PgConnection::Interrupted::kNo) break;
          if (TargetFailed()) {
            failure = "target failed";  // replaced by the target's error below
            break;
          }
        }
      } else if (n == 0) {
        interrupted = src.CheckInterrupt();
        if (interrupted != PgConnection::Interrupted::kNo) break;
        WaitReadable(Pq().PQsocket(src.conn_), kPollSliceMs);
        if (!Pq().PQconsumeInput(src.conn_)) {
          failure = "source: " + ConnError(src.conn_, "COPY");
          break;
        }
      } else if (n == -1) {
        Result<std::string> done = Finish(src, out_sql);
        if (!done.ok()) {
          failure = "source: " + done.message();
          (void)AbortTarget(in_sql, "source failed");
          return Result<CopyStats>::Error(*failure);
        }
        break;
      } else {
        failure = "source: " + ConnError(src.conn_, "COPY");
        Result<std::string> done = Finish(src, out_sql);
        if (!done.ok()) failure = "source: " + done.message();
        (void)AbortTarget(in_sql, "source failed");
        return Result<CopyStats>::Error(*failure);
      }
    }
    if (interrupted != PgConnection::Interrupted::kNo || failure) {
      AbortSource();
      const char* reason = interrupted != PgConnection::Interrupted::kNo ? "interrupted by runbook"
                                                                         : "aborted by runbook";
      std::optional<std::string> target_error = AbortTarget(in_sql, reason);
      if (interrupted != PgConnection::Interrupted::kNo) {
        return Result<CopyStats>::Error(
            InterruptMessage(interrupted == PgConnection::Interrupted::kTimedOut));
      }
      if (target_error) return Result<CopyStats>::Error("target: " + *target_error);
      return Result<CopyStats>::Error(*failure);
    }
    if (Pq().PQputCopyEnd(dst.conn_, nullptr) != 1) {
      return Result<CopyStats>::Error("target: " + ConnError(dst.conn_, "COPY"));
    }
    Result<std::string> tag = Finish(dst, in_sql);
    if (!tag.ok()) return Result<CopyStats>::Error("target: " + tag.message());
    stats.rows = std::atoll(tag->c_str());
    return stats;
  }
};

Result<CopyStats> StreamCopy(PgConnection& src, std::string_view copy_out_sql, PgConnection& dst,
                             std::string_view copy_in_sql,
                             const std::function<void(std::string_view row)>& on_row) {
  PgCopier copier{src, dst};
  return copier.RunReportingInterrupts(copy_out_sql, copy_in_sql, on_row);
}

std::optional<std::string> CopyTextField(std::string_view row, size_t index) {
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    const size_t tab = row.find('\t', start);
    if (tab == std::string_view::npos) return std::nullopt;
    start = tab + 1;
  }
  size_t end = row.find('\t', start);
  if (end == std::string_view::npos) end = row.size();
  const std::string_view raw = row.substr(start, end - start);
  if (raw == "\\N") return std::nullopt;
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7';
               ++k) {
            v = v * 8 + (raw[++i] - '0');
          }
          out += static_cast<char>(v);
        } else {
          out += e;  // "\\" and any other escaped character stand for themselves
        }
    }
  }
  return out;
}

}  // namespace runbook
