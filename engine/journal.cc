#include "engine/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "engine/crc32.h"
#include "engine/state_dir.h"

namespace runbook {
namespace {

using nlohmann::json;

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// The directory part of `path` ("." when there is none), for the fsync that makes a name durable.
std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Error(Errno("cannot open directory", dir));
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return Status::Error(Errno("cannot fsync directory", dir));
  return Status::Ok();
}

// Writes all of `data` at the current offset, looping on short writes and EINTR.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Result<std::string> ReadAll(int fd, const std::string& path) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Result<std::string>::Error("journal " + path + " is not a regular file");
  }
  std::string data;
  char buf[65536];
  for (;;) {
    if (data.size() > kMaxStateFileBytes) {
      return Result<std::string>::Error("journal " + path + " is larger than " +
                                        std::to_string(kMaxStateFileBytes >> 20) +
                                        " MiB: not a journal of this engine");
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Result<std::string>::Error(Errno("cannot read journal", path));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Decodes one line (without its newline): the record, or nullopt when the checksum or the JSON is
// bad. Never throws.
std::optional<json> DecodeLine(std::string_view line) {
  if (line.size() < 10 || line[8] != ' ') return std::nullopt;
  for (int i = 0; i < 8; ++i) {
    if (!IsLowerHex(line[i])) return std::nullopt;
  }
  std::string_view body = line.substr(9);
  if (Crc32Hex(body) != line.substr(0, 8)) return std::nullopt;
  json record = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return std::nullopt;  // also catches a parse error ("discarded")
  return record;
}

json FieldOrNull(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? json() : *it;
}

// True when `data`, which holds no valid record, could be the first record cut off by a crash
// while it was written: no newline yet, and a prefix of "<8 lower-hex> {...". Nothing ran before
// that record was durable, so such a journal is a run that never started. Anything else (zeros,
// garbage, a complete line that fails its checksum) is damage, and damage is never "no run".
bool IsTornFirstRecord(std::string_view data) {
  if (data.find('\n') != std::string_view::npos) return false;
  if (data.find('\0') != std::string_view::npos) return false;
  for (size_t i = 0; i < data.size() && i < 8; ++i) {
    if (!IsLowerHex(data[i])) return false;
  }
  if (data.size() > 8 && data[8] != ' ') return false;
  if (data.size() > 9 && data[9] != '{') return false;
  return true;
}

std::string Plural(size_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

}  // namespace

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {  // before 1970: floor, so the fraction stays positive
    frac += 1000;
    --secs;
  }
  time_t tt = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::optional<int64_t> ParseTimestampMs(const std::string& ts) {
  struct tm tm = {};
  int consumed = 0;
  if (std::sscanf(ts.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < ts.size() && ts[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < ts.size() && ts[pos] >= '0' && ts[pos] <= '9') {
      if (digits < 3) ms = ms * 10 + (ts[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (pos + 1 != ts.size() || ts[pos] != 'Z') return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

std::string EncodeJournalLine(const json& record) {
  std::string body = record.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  std::string line = Crc32Hex(body);
  line.reserve(body.size() + 10);
  line += ' ';
  line += body;
  line += '\n';
  return line;
}

Result<JournalContents> ParseJournal(const std::string& path, std::string_view data,
                                     size_t* valid_bytes) {
  using R = Result<JournalContents>;
  JournalContents out;
  size_t good_end = 0;              // end of the last valid line
  std::optional<size_t> first_bad;  // offset of the first invalid line
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    ++line_no;
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (!first_bad) first_bad = pos;  // no commit marker: a partial record
      break;
    }
    std::optional<json> record = DecodeLine(data.substr(pos, nl - pos));
    if (!record) {
      if (!first_bad) first_bad = pos;
    } else if (first_bad) {
      return R::Error("journal " + path + " is corrupt: the record at byte " +
                      std::to_string(*first_bad) +
                      " is damaged but valid records follow it (line " + std::to_string(line_no) +
                      "); refusing to guess what happened");
    } else {
      int64_t expected = static_cast<int64_t>(out.records.size()) + 1;
      json seq = FieldOrNull(*record, "seq");
      if (!seq.is_number_integer() || seq.get<int64_t>() != expected) {
        return R::Error("journal " + path + " is corrupt: line " + std::to_string(line_no) +
                        " (byte " + std::to_string(pos) + ") has seq " + seq.dump() +
                        ", expected " + std::to_string(expected));
      }
      if (expected == 1) {
        json format = FieldOrNull(*record, "format");
        if (!format.is_number_integer() || format.get<int64_t>() != kJournalFormat) {
          return R::Error("journal " + path + " has format " + format.dump() +
                          "; this runbook reads format " + std::to_string(kJournalFormat));
        }
      }
      out.records.push_back(std::move(*record));
      good_end = nl + 1;
    }
    pos = nl + 1;
  }
  if (out.records.empty() && !data.empty() && !IsTornFirstRecord(data)) {
    return R::Error("journal " + path + " cannot be read from its first record (" +
                    Plural(data.size(), "byte") +
                    ", none of them a valid record): it was damaged after it was written, so "
                    "what its run did is unknown; refusing to take it for \"no run\". Move the "
                    "run's directory aside to start over");
  }
  if (first_bad) {
    size_t torn = data.size() - good_end;
    out.warning = "journal " + path + ": ignoring a torn tail of " + Plural(torn, "byte") +
                  " at byte " + std::to_string(good_end) +
                  " (a record cut off by a crash; it was never committed)";
  }
  if (valid_bytes) *valid_bytes = good_end;
  return out;
}

Result<JournalContents> ReadJournal(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return Result<JournalContents>::Error(Errno("cannot open journal", path));
  Result<std::string> data = ReadAll(fd, path);
  close(fd);
  if (!data.ok()) return Result<JournalContents>::Error(data.message());
  return ParseJournal(path, *data, nullptr);
}

std::optional<int64_t> ReadJournalStartMs(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string data;
  char buf[4096];
  size_t nl = std::string::npos;
  // A first record is small (run_started: names, inputs, step ids); the cap bounds a damaged one.
  while (nl == std::string::npos && data.size() < (size_t{1} << 24)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    nl = std::string_view(buf, static_cast<size_t>(n)).find('\n');
    if (nl != std::string::npos) nl += data.size();
    data.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (nl == std::string::npos) return std::nullopt;
  std::optional<json> record = DecodeLine(std::string_view(data).substr(0, nl));
  if (!record) return std::nullopt;
  json ts = FieldOrNull(*record, "ts");
  if (!ts.is_string()) return std::nullopt;
  return ParseTimestampMs(ts.get<std::string>());
}

Journal::Journal(std::string path, int fd, int64_t next_seq)
    : path_(std::move(path)), fd_(fd), next_seq_(next_seq) {}

Journal::~Journal() {
  close(fd_);
}

Result<std::unique_ptr<Journal>> Journal::Create(const std::string& path) {
  using R = Result<std::unique_ptr<Journal>>;
  int fd =
      open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return R::Error(Errno("cannot create journal", path));
  std::unique_ptr<Journal> journal(new Journal(path, fd, 1));
  if (fsync(fd) != 0) return R::Error(Errno("cannot fsync journal", path));
  Status dir = FsyncDir(DirName(path));
  if (!dir.ok()) return R::Error(dir.message());
  return journal;
}

Result<std::unique_ptr<Journal>> Journal::OpenForAppend(const std::string& path,
                                                        std::string* warning) {
  using R = Result<std::unique_ptr<Journal>>;
  if (warning) warning->clear();
  int fd = open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return R::Error(Errno("cannot open journal", path));
  // Owned from here so every return closes it.
  std::unique_ptr<Journal> journal(new Journal(path, fd, 1));
  Result<std::string> data = ReadAll(fd, path);
  if (!data.ok()) return R::Error(data.message());
  size_t valid = 0;
  Result<JournalContents> contents = ParseJournal(path, *data, &valid);
  if (!contents.ok()) return R::Error(contents.message());
  if (valid != data->size()) {
    // Drop the torn tail now: appending after it would bury it mid-file, where it would read as
    // corruption.
    if (ftruncate(fd, static_cast<off_t>(valid)) != 0) {
      return R::Error(Errno("cannot truncate the torn tail of journal", path));
    }
    if (fsync(fd) != 0) return R::Error(Errno("cannot fsync journal", path));
    if (warning) {
      *warning = "journal " + path + ": truncated a torn tail of " +
                 Plural(data->size() - valid, "byte") + " at byte " + std::to_string(valid) +
                 " (a record cut off by a crash; it was never committed)";
    }
  }
  journal->next_seq_ = static_cast<int64_t>(contents->records.size()) + 1;
  return journal;
}

int64_t Journal::next_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_seq_;
}

Status Journal::Append(json record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status st = WriteLocked(std::move(record)); !st.ok()) return st;
  return SyncLocked();
}

Status Journal::Write(json record) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteLocked(std::move(record));
}

Status Journal::Sync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!poisoned_.empty()) {
    return Status::Error("journal " + path_ + " is unusable after an earlier error: " + poisoned_);
  }
  return SyncLocked();
}

Status Journal::WriteLocked(json record) {
  if (!record.is_object()) return Status::Error("journal record must be a JSON object");
  if (!poisoned_.empty()) {
    return Status::Error("journal " + path_ + " is unusable after an earlier error: " + poisoned_);
  }
  record["seq"] = next_seq_;
  record["ts"] = FormatTimestamp(std::chrono::system_clock::now());
  if (next_seq_ == 1) record["format"] = kJournalFormat;
  std::string line = EncodeJournalLine(record);
  if (!WriteAll(fd_, line)) {
    poisoned_ = Errno("cannot write journal", path_);
    return Status::Error(poisoned_);
  }
  ++next_seq_;
  if (mirror_ && mirror_error_.empty()) {
    if (Status m = mirror_->Record(record); !m.ok()) mirror_error_ = m.message();
  }
  return Status::Ok();
}

void Journal::SetMirror(JournalMirror* mirror) {
  std::lock_guard<std::mutex> lock(mu_);
  mirror_ = mirror;
}

std::string Journal::mirror_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mirror_error_;
}

Status Journal::SyncLocked() {
  if (fdatasync(fd_) != 0) {
    poisoned_ = Errno("cannot flush journal", path_);
    return Status::Error(poisoned_);
  }
  return Status::Ok();
}

}  // namespace runbook
