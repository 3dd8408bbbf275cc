// Source locations and diagnostics: how every error the engine reports is shaped.
//
// Errors are values. Loading and validating collect every problem they can find into a
// Diagnostics list instead of stopping at the first; callers print them as
// "FILE:LINE:COL: message". Nothing in the engine throws across its API.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace runbook {

// A place in a source file. Lines and columns are 1-based; 0 means "unknown". `file` is the path
// as the user gave it ("--set" for values from the command line; empty when unknown).
struct Location {
  std::string file;
  int line = 0;
  int col = 0;

  // "FILE:LINE:COL", or just "FILE" / "<unknown>" when parts are missing.
  std::string ToString() const;
};

struct Diagnostic {
  Location loc;
  std::string message;  // without the location; e.g. "unknown key 'nedds' (did you mean 'needs'?)"

  std::string ToString() const;  // "FILE:LINE:COL: message"
};

// An ordered collection of diagnostics. Errors keep the order in which they were found.
class Diagnostics {
 public:
  void Error(const Location& loc, std::string message) {
    errors_.push_back({loc, std::move(message)});
  }
  bool ok() const { return errors_.empty(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  void Append(const Diagnostics& other) {
    errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
  }
  // Sorts by file, line, column (stable), so a file's errors read top to bottom.
  void SortByLocation();

 private:
  std::vector<Diagnostic> errors_;
};

// The result of an operation that can fail with one error message (with context already in it).
// A tiny stand-in for std::expected, which g++ 12 lacks in C++20.
class [[nodiscard]] Status {
 public:
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string m) : failed_(true), message_(std::move(m)) {}
  bool failed_ = false;
  std::string message_;
};

// A value or an error message.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)), ok_(true) {}  // NOLINT: implicit by design
  static Result Error(std::string message) {
    Result r;
    r.message_ = std::move(message);
    return r;
  }
  bool ok() const { return ok_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }
  const std::string& message() const { return message_; }
  Status status() const { return ok_ ? Status::Ok() : Status::Error(message_); }

 private:
  Result() = default;
  T value_{};
  bool ok_ = false;
  std::string message_;
};

}  // namespace runbook
