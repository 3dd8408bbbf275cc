// An OutputSink that keeps the last lines it saw: guard evidence from a command's output.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "engine/output.h"

namespace runbook {

class CollectSink : public OutputSink {
 public:
  explicit CollectSink(size_t max_lines = 20) : max_lines_(max_lines) {}
  void Line(Stream, std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(line);
    if (lines_.size() > max_lines_) lines_.pop_front();
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {lines_.begin(), lines_.end()};
  }

 private:
  size_t max_lines_;
  mutable std::mutex mu_;
  std::deque<std::string> lines_;
};

}  // namespace runbook
