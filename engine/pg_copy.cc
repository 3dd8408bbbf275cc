// StreamCopy: a COPY TO STDOUT on one connection fed into a COPY FROM STDIN on another.
#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "engine/pg.h"
#include "engine/pg_internal.h"

namespace runbook {
namespace {

constexpr int64_t kTargetCheckEvery = 1000;
// Rows are passed on in pieces of about this size: the source sends a message per row, and a
// message per row costs the target a message read each (COPY data need not follow rows).
constexpr size_t kSendBytes = 64 * 1024;
// Binary COPY: "PGCOPY\n\377\r\n\0", int32 flags, int32 extension length, extension; the data
// ends with an int16 -1 (a row starts with its int16 field count).
constexpr std::string_view kBinarySignature{"PGCOPY\n\377\r\n\0", 11};
constexpr std::string_view kBinaryTrailer{"\377\377", 2};

int32_t ReadInt32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                              (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}

}  // namespace

// StreamCopy needs the private parts of both connections.
struct PgCopier {
  PgCopier(PgConnection& source, std::string_view out, PgConnection& target, std::string_view in,
           const std::function<void(std::string_view)>& row_seen, const CopyOptions& opts)
      : src(source), dst(target), out_sql(out), in_sql(in), on_row(row_seen), options(opts) {}

  PgConnection& src;
  PgConnection& dst;
  std::string_view out_sql;
  std::string_view in_sql;
  const std::function<void(std::string_view)>& on_row;
  const CopyOptions& options;

  struct Row {
    char* data;  // from PQgetCopyData, freed with PQfreemem
    int len;
  };
  std::deque<Row> backlog;  // read from the source while the target finished a statement
  size_t backlog_bytes = 0;
  bool source_done = false;  // the source's COPY ended without error
  bool first_message = true;
  std::string header;   // binary format: what every target statement's data starts with
  std::string pending;  // data for the target's current statement, not sent yet
  bool target_in_copy = false;
  int64_t statement_rows = 0;  // rows sent in the target's current statement
  int64_t rows_before = 0;     // rows the target's finished statements reported
  int64_t statements = 0;      // target statements finished
  int64_t since_check = 0;
  CopyStats stats;
  std::optional<std::string> failure;
  PgConnection::Interrupted interrupted = PgConnection::Interrupted::kNo;

  ~PgCopier() {
    for (const Row& r : backlog) PQfreemem(r.data);
  }

  // Sends `sql` and waits for its first result, which must be `expected` (a COPY state).
  static Status Start(PgConnection& c, std::string_view sql, ExecStatusType expected) {
    if (Status s = Send(c, sql); !s.ok()) return s;
    return Await(c, sql, expected);
  }
  static Status Send(PgConnection& c, std::string_view sql) {
    const std::string text(sql);
    if (!PQsendQuery(c.conn_, text.c_str())) return Status::Error(ConnError(c.conn_, "COPY"));
    return Status::Ok();
  }
  // Waits for the first result of the query Send sent, which must be `expected`.
  static Status Await(PgConnection& c, std::string_view sql, ExecStatusType expected) {
    bool cancel_sent = false;
    while (PQisBusy(c.conn_)) {
      if (!cancel_sent && c.CheckInterrupt() != PgConnection::Interrupted::kNo) {
        c.Cancel();
        cancel_sent = true;
      }
      WaitReadable(PQsocket(c.conn_), kPollSliceMs);
      if (!PQconsumeInput(c.conn_)) return Status::Error(ConnError(c.conn_, "COPY"));
    }
    ResultPtr res(PQgetResult(c.conn_));
    if (res && PQresultStatus(res.get()) == expected) return Status::Ok();
    std::string message = res ? FormatResultError(res.get(), sql) : "COPY did not start";
    while (ResultPtr more{PQgetResult(c.conn_)}) {
    }
    return Status::Error(std::move(message));
  }

  // Reads results until none is left; returns the first error, or the last command tag.
  static Result<std::string> Finish(PgConnection& c, std::string_view sql) {
    std::optional<std::string> error;
    std::string tag;
    while (true) {
      while (PQisBusy(c.conn_)) {
        WaitReadable(PQsocket(c.conn_), kPollSliceMs);
        if (!PQconsumeInput(c.conn_)) return Result<std::string>::Error(ConnError(c.conn_, "COPY"));
      }
      ResultPtr res(PQgetResult(c.conn_));
      if (!res) break;
      if (PQresultStatus(res.get()) == PGRES_COMMAND_OK) {
        tag = PQcmdTuples(res.get());
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
    while ((n = PQgetCopyData(src.conn_, &buf, 0)) > 0) PQfreemem(buf);
    (void)Finish(src, "");
  }

  // Stops a source COPY that was sent but whose start was not awaited (the target failed first).
  void AbortUnstartedSource() {
    src.Cancel();
    if (Await(src, out_sql, PGRES_COPY_OUT).ok()) AbortSource();
  }

  // Ends the target's COPY IN with a failure and returns the target's own error if it had one.
  std::optional<std::string> AbortTarget(const char* reason) {
    PQputCopyEnd(dst.conn_, reason);
    Result<std::string> r = Finish(dst, in_sql);
    if (!r.ok() && r.message().find(reason) == std::string::npos) return r.message();
    return std::nullopt;
  }

  // True when the target sent something during COPY IN that is not a notice: an error.
  bool TargetFailed() {
    const int fd = PQsocket(dst.conn_);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    // During COPY IN libpq handles notices as they arrive but keeps an ErrorResponse unparsed, so
    // input that yields no notice is an error (or a rare ParameterStatus; then the COPY fails with
    // "aborted", and a retry helps). A message split across packets is waited for briefly.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int64_t before = dst.notices_;
      if (!PQconsumeInput(dst.conn_)) return true;
      (void)PQisBusy(dst.conn_);  // parses the input: notices are delivered, an error is kept
      if (dst.notices_ != before) return false;
      p.revents = 0;
      if (poll(&p, 1, 20) <= 0) return true;
    }
    return true;
  }

  // One message from the source: 1 with a row, 0 when none is there yet, -1 at the end (the
  // source's COPY finished well), -2 on failure (`failure` says what).
  int ReadSource(Row* row) {
    char* buf = nullptr;
    const int n = PQgetCopyData(src.conn_, &buf, /*async=*/1);
    if (n > 0) {
      *row = {buf, n};
      return 1;
    }
    if (n == 0) return 0;
    if (n == -1) {
      Result<std::string> done = Finish(src, out_sql);
      if (!done.ok()) {
        failure = "source: " + done.message();
        source_done = true;  // nothing left to stop
        return -2;
      }
      source_done = true;
      return -1;
    }
    failure = "source: " + ConnError(src.conn_, "COPY");
    Result<std::string> done = Finish(src, out_sql);
    if (!done.ok()) failure = "source: " + done.message();
    source_done = true;
    return -2;
  }

  int NextRow(Row* row) {
    if (!backlog.empty()) {
      *row = backlog.front();
      backlog.pop_front();
      backlog_bytes -= static_cast<size_t>(row->len);
      return 1;
    }
    if (source_done) return -1;
    return ReadSource(row);
  }

  bool Flush() {
    if (pending.empty()) return true;
    const int put = PQputCopyData(dst.conn_, pending.data(), static_cast<int>(pending.size()));
    pending.clear();
    if (put == 1) return true;
    failure = "target: " + ConnError(dst.conn_, "COPY");
    return false;
  }

  // Ends the target's current statement and waits for it, reading the source meanwhile: the
  // statement's after-row triggers (its foreign key checks) run now, while rows keep coming.
  bool EndTargetStatement() {
    if (!header.empty()) pending.append(kBinaryTrailer);
    if (!Flush()) return false;
    target_in_copy = false;
    if (PQputCopyEnd(dst.conn_, nullptr) != 1) {
      failure = "target: " + ConnError(dst.conn_, "COPY");
      return false;
    }
    bool cancel_sent = false;
    while (PQisBusy(dst.conn_)) {
      if (!cancel_sent && (interrupted = src.CheckInterrupt()) != PgConnection::Interrupted::kNo) {
        dst.Cancel();
        cancel_sent = true;
      }
      // The rows libpq already holds, then a wait for either side.
      Row row;
      while (!source_done && backlog_bytes < options.backlog_bytes && ReadSource(&row) == 1) {
        backlog.push_back(row);
        backlog_bytes += static_cast<size_t>(row.len);
      }
      if (failure) break;
      pollfd fds[2] = {{PQsocket(dst.conn_), POLLIN, 0}, {PQsocket(src.conn_), POLLIN, 0}};
      const bool read_source = !source_done && backlog_bytes < options.backlog_bytes;
      poll(fds, read_source ? 2 : 1, kPollSliceMs);
      if (!PQconsumeInput(dst.conn_)) {
        failure = "target: " + ConnError(dst.conn_, "COPY");
        return false;
      }
      if (read_source && fds[1].revents != 0 && !PQconsumeInput(src.conn_)) {
        failure = "source: " + ConnError(src.conn_, "COPY");
        break;
      }
    }
    Result<std::string> tag = Finish(dst, in_sql);  // also after a source failure: dst is idle
    if (failure) return false;
    if (!tag.ok()) {
      failure = "target: " + tag.message();
      if (statements > 0) {
        *failure += "\n(in the COPY statement that began at row " +
                    std::to_string(rows_before + 1) + ": the target's COPY runs in statements of " +
                    std::to_string(options.rows_per_statement) + " rows)";
      }
      return false;
    }
    rows_before += std::atoll(tag->c_str());
    ++statements;
    statement_rows = 0;
    return true;
  }

  bool StartTargetStatement() {
    if (Status s = Start(dst, in_sql, PGRES_COPY_IN); !s.ok()) {
      failure = "target: " + s.message();
      return false;
    }
    target_in_copy = true;
    pending.append(header);
    return true;
  }

  // Takes the binary header off the source's first message: each target statement gets it.
  // Returns the rest of the message.
  std::string_view TakeHeader(std::string_view message) {
    if (message.substr(0, kBinarySignature.size()) != kBinarySignature || message.size() < 19) {
      return message;  // text
    }
    const size_t length = 19 + static_cast<size_t>(std::max(0, ReadInt32(message.data() + 15)));
    header.assign(message.substr(0, length));
    pending.append(header);
    return message.substr(std::min(length, message.size()));
  }

  // Passes one source message on. False on failure.
  bool Forward(const Row& row) {
    std::string_view data(row.data, static_cast<size_t>(row.len));
    stats.bytes += row.len;
    if (first_message) {
      first_message = false;
      data = TakeHeader(data);
    }
    // The source's binary trailer: every target statement gets its own at its end.
    if (!header.empty() && data == kBinaryTrailer) return true;
    if (data.empty()) return true;
    if (!target_in_copy && !StartTargetStatement()) return false;
    if (on_row) on_row(data);
    pending.append(data);
    if (pending.size() >= kSendBytes && !Flush()) return false;
    if (++since_check >= kTargetCheckEvery) {
      since_check = 0;
      interrupted = src.CheckInterrupt();
      if (interrupted != PgConnection::Interrupted::kNo) return false;
      if (TargetFailed()) {
        failure = "target failed";  // replaced by the target's error
        return false;
      }
    }
    if (options.rows_per_statement > 0 && ++statement_rows >= options.rows_per_statement) {
      return EndTargetStatement();
    }
    return true;
  }

  Result<CopyStats> Run() {
    // The source server starts on its query while the target is prepared and starts its COPY.
    if (Status s = Send(src, out_sql); !s.ok()) {
      return Result<CopyStats>::Error("source: " + s.message());
    }
    if (options.prepare_target) {
      if (Status s = options.prepare_target(); !s.ok()) {
        AbortUnstartedSource();
        return Result<CopyStats>::Error(s.message());
      }
    }
    if (Status s = Start(dst, in_sql, PGRES_COPY_IN); !s.ok()) {
      AbortUnstartedSource();
      return Result<CopyStats>::Error("target: " + s.message());
    }
    target_in_copy = true;
    if (Status s = Await(src, out_sql, PGRES_COPY_OUT); !s.ok()) {
      (void)AbortTarget("source failed");
      if (src.CheckInterrupt() != PgConnection::Interrupted::kNo) {
        return Result<CopyStats>::Error(
            InterruptMessage(src.CheckInterrupt() == PgConnection::Interrupted::kTimedOut));
      }
      return Result<CopyStats>::Error("source: " + s.message());
    }
    bool ok = true;
    while (ok) {
      Row row;
      const int got = NextRow(&row);
      if (got == 1) {
        ok = Forward(row);
        PQfreemem(row.data);
      } else if (got == 0) {
        // The target works on what it has while the source is waited for.
        if (!Flush()) break;
        interrupted = src.CheckInterrupt();
        if (interrupted != PgConnection::Interrupted::kNo) break;
        WaitReadable(PQsocket(src.conn_), kPollSliceMs);
        if (!PQconsumeInput(src.conn_)) {
          failure = "source: " + ConnError(src.conn_, "COPY");
          break;
        }
      } else if (got == -1) {
        if (target_in_copy && !EndTargetStatement()) break;
        stats.rows = rows_before;
        return stats;
      } else {
        break;
      }
    }
    if (!source_done) AbortSource();
    std::optional<std::string> target_error;
    if (target_in_copy) {
      target_error =
          AbortTarget(interrupted != PgConnection::Interrupted::kNo ? "interrupted by runbook"
                      : failure && failure->starts_with("source")   ? "source failed"
                                                                    : "aborted by runbook");
    }
    if (interrupted != PgConnection::Interrupted::kNo) {
      return Result<CopyStats>::Error(
          InterruptMessage(interrupted == PgConnection::Interrupted::kTimedOut));
    }
    if (target_error) return Result<CopyStats>::Error("target: " + *target_error);
    return Result<CopyStats>::Error(failure.value_or("copy failed"));
  }

  // A cancel may land anywhere (even while the COPY starts): report it as such, not as the
  // 57014 error it causes.
  Result<CopyStats> RunReportingInterrupts() {
    Result<CopyStats> r = Run();
    const PgConnection::Interrupted i = src.CheckInterrupt();
    if (!r.ok() && i != PgConnection::Interrupted::kNo) {
      return Result<CopyStats>::Error(InterruptMessage(i == PgConnection::Interrupted::kTimedOut));
    }
    return r;
  }
};

Result<CopyStats> StreamCopy(PgConnection& src, std::string_view copy_out_sql, PgConnection& dst,
                             std::string_view copy_in_sql,
                             const std::function<void(std::string_view row)>& on_row,
                             const CopyOptions& options) {
  PgCopier copier(src, copy_out_sql, dst, copy_in_sql, on_row, options);
  return copier.RunReportingInterrupts();
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
