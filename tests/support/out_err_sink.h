// An OutputSink for tests that keeps a step's stdout and stderr lines apart.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/output.h"

namespace runbook::testing {

class OutErrSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    (stream == Stream::kStdout ? out : err).emplace_back(line);
  }
  // Polls (up to 20 s) for a stdout line, safely while lines still arrive.
  bool WaitFor(const std::string& line) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (std::find(out.begin(), out.end(), line) != out.end()) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Read these once the writers are done.
  std::vector<std::string> out;
  std::vector<std::string> err;

 private:
  std::mutex mu_;
};

}  // namespace runbook::testing
