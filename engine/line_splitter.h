// Process output as lines for an OutputSink, secrets masked, for the process runner
// (engine/process.cc), which runs local commands and the ssh client of remote ones.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/output.h"

namespace runbook {

// Lines longer than this are delivered in pieces.
inline constexpr size_t kMaxLine = 64 * 1024;

// The secrets of a spec's `redact` in the order LineSplitter needs: empty ones dropped, longest
// first (when one secret contains another, the longer one is masked).
std::vector<std::string> RedactionOrder(const std::vector<std::string>& redact);

// Splits a byte stream into lines (without the newline), masks every secret as "***" and hands
// each line to `out` (may be null). Overlong lines are cut at about kMaxLine bytes, never inside
// a secret. `secrets` (from RedactionOrder) must outlive the splitter.
class LineSplitter {
 public:
  LineSplitter(Stream stream, OutputSink* out, const std::vector<std::string>* secrets);

  void Feed(std::string_view data);
  // At end of stream: the last line, even without a newline.
  void Finish();

 private:
  void Emit(std::string_view line);
  void EmitCut(std::string_view line);
  size_t SafeCut(std::string_view text) const;

  Stream stream_;
  OutputSink* out_;
  const std::vector<std::string>* secrets_;
  size_t max_secret_ = 0;
  std::string partial_;
};

}  // namespace runbook
