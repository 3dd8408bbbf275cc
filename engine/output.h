// Where a running step's output goes: one interface for process output, SQL results, guard
// evidence and engine messages about the step. The executor's implementation writes each line to
// the step's log file and to the reporter (terminal or JSON); tests record the lines.
#pragma once

#include <string_view>

namespace runbook {

enum class Stream { kStdout, kStderr, kInfo };

class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // One complete line, without the trailing newline, secrets already masked.
  virtual void Line(Stream stream, std::string_view line) = 0;
};

}  // namespace runbook
