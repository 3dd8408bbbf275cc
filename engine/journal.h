// The durable run journal: an append-only file of JSON records, one per line.
//
// Line format (documented in schemas/journal.schema.json):
//
//     <crc32 of JSON as 8 lower-case hex digits> ' ' <JSON object> '\n'
//
// The JSON is nlohmann::json::dump() output, which never contains a raw newline, so the newline
// is the commit marker and the CRC guards the content. Every record carries "seq" (1, 2, 3, ...
// with no gaps) and "ts" (RFC 3339 UTC with milliseconds), both set by Append; the first record
// also carries "format" (kJournalFormat).
//
// Durability: each record is written with one write() and then fdatasync()ed; Append returns only
// after that, so a record Append reported as written survives kill -9 and power loss. A failed
// write or fdatasync poisons the journal: that and every later Append return an error and the
// caller must stop the run (Linux may drop dirty pages after reporting an fsync error once, so a
// retry could "succeed" over lost data).
//
// Recovery: a crash can leave a torn tail (a partial last line, or garbage/NUL bytes appended
// space held at power loss). Readers drop invalid lines at the end with a warning that names the
// byte count; an invalid line followed by a valid one is corruption and is refused, as is a
// record whose seq is not the previous one + 1. A journal with bytes but no valid record is refused
// too, unless those bytes are a prefix of a first record without its newline (cut off while it
// was written, before anything ran): zeros or garbage from the first byte are damage, and taking
// them for "no run" would start over and repeat steps that had succeeded.
//
// Record types and their meaning are in engine/run_state.h; this unit knows only lines.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/diag.h"

namespace runbook {

// The version of the record format, carried by the first record as "format". A reader refuses a
// journal whose first record names another format.
inline constexpr int kJournalFormat = 1;

// "2026-11-25T05:43:02.123Z": the "ts" of every record.
std::string FormatTimestamp(std::chrono::system_clock::time_point t);
// Milliseconds since the Unix epoch of a FormatTimestamp string (also accepts no fraction or
// fewer digits of it); nullopt when `ts` is not in that form.
std::optional<int64_t> ParseTimestampMs(const std::string& ts);

// One journal line for `record` (which must be a JSON object), including the trailing newline.
// Strings that are not valid UTF-8 (e.g. captured step output) are written with U+FFFD in place
// of the bad bytes rather than failing.
std::string EncodeJournalLine(const nlohmann::json& record);

// A copy of the journal kept elsewhere (the team's state store, engine/store_mirror.h): given
// every record once it is written here, in seq order.
class JournalMirror {
 public:
  virtual ~JournalMirror() = default;
  // Returns once the copy is committed; an error means the copy is gone for this process.
  virtual Status Record(const nlohmann::json& record) = 0;
};

class Journal {
 public:
  // Creates a new journal at `path` (which must not exist) and makes its name durable (fsyncs the
  // file and its directory). The file is 0600 and its descriptor close-on-exec.
  static Result<std::unique_ptr<Journal>> Create(const std::string& path);

  // Opens an existing journal to continue it (resume). Scans it as ReadJournal does; a torn tail
  // is truncated away (and the truncation fsynced) with a message in `*warning` naming the byte
  // count ("" when the journal was clean). Errors on corruption in the middle, a wrong format, or
  // I/O failure. `warning` may be null.
  static Result<std::unique_ptr<Journal>> OpenForAppend(const std::string& path,
                                                        std::string* warning);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Adds "seq" and "ts" (and "format" to the first record) to `record`, a JSON object, writes it
  // as one line and fdatasyncs. Returns once the record is durable. Safe to call from several
  // threads: records are numbered in the order they reach the file.
  // On failure the journal is poisoned (see above): stop the run, do not retry.
  Status Append(nlohmann::json record);

  // Append in two halves, for a record whose durability can wait while work that does not depend
  // on it goes on (a remote step's ssh session is set up meanwhile; its command starts only after
  // Sync). Write writes the record without the fdatasync: it then survives the engine being
  // killed (it is in the page cache) but not power loss. Sync fdatasyncs everything written so
  // far. Either poisons the journal on failure, as Append does.
  Status Write(nlohmann::json record);
  Status Sync();

  const std::string& path() const { return path_; }

  // From now on every record written is also given to `mirror` (not owned; null: none), under
  // the journal's lock, before Append or Write returns. The first error the mirror reports stops
  // the copying (later records stay only here) and is kept for mirror_error(); the journal itself
  // stays usable: the records are durable here, to be copied again when the run resumes.
  void SetMirror(JournalMirror* mirror);
  // "" while the mirror holds every record.
  std::string mirror_error() const;
  // The seq the next Append will use (1 for a new journal).
  int64_t next_seq() const;

 private:
  Journal(std::string path, int fd, int64_t next_seq);
  Status WriteLocked(nlohmann::json record);  // mu_ held
  Status SyncLocked();                        // mu_ held

  const std::string path_;
  const int fd_;
  mutable std::mutex mu_;
  int64_t next_seq_;                 // guarded by mu_
  std::string poisoned_;             // guarded by mu_; the first write/sync error, "" while healthy
  JournalMirror* mirror_ = nullptr;  // guarded by mu_
  std::string mirror_error_;         // guarded by mu_
};

struct JournalContents {
  std::vector<nlohmann::json> records;  // in file order; each has "seq" == index + 1
  std::string warning;                  // about a dropped torn tail; "" when clean
};

// Reads a journal without changing it (status, history, logs, dry-run). A torn tail is ignored
// with a warning; corruption in the middle, a record out of sequence, a wrong format or an I/O
// error is an error naming the file and the byte offset. Reading the journal of a live run is
// safe, but may catch the record being written as a torn tail.
Result<JournalContents> ReadJournal(const std::string& path);

// Milliseconds since the epoch of the first record's "ts" (for a run journal, when run_started
// was written: the start time runs are ordered by). Reads only the first line; nullopt when it
// cannot be read or is not a valid record.
std::optional<int64_t> ReadJournalStartMs(const std::string& path);

// Parses journal bytes as ReadJournal does. `valid_bytes` (may be null) receives the length of
// the valid prefix, where a torn tail starts.
Result<JournalContents> ParseJournal(const std::string& path_for_messages, std::string_view data,
                                     size_t* valid_bytes);

}  // namespace runbook
