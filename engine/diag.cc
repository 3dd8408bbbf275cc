#include "engine/diag.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <tuple>
#include <unordered_map>

namespace runbook {

std::string Location::ToString() const {
  std::string s = file ? *file : std::string("<unknown>");
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (col > 0) s += ':' + std::to_string(col);
  }
  return s;
}

const std::string* InternFileName(const std::string& path) {
  // A deque never moves its elements, so the returned pointers stay valid.
  static std::mutex mu;
  static std::deque<std::string> names;
  static std::unordered_map<std::string, const std::string*> index;
  std::lock_guard<std::mutex> lock(mu);
  auto it = index.find(path);
  if (it != index.end()) return it->second;
  names.push_back(path);
  index.emplace(path, &names.back());
  return &names.back();
}

std::string Diagnostic::ToString() const {
  return loc.ToString() + ": " + message;
}

void Diagnostics::SortByLocation() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    const std::string fa = a.loc.file ? *a.loc.file : "";
    const std::string fb = b.loc.file ? *b.loc.file : "";
    return std::tie(fa, a.loc.line, a.loc.col) < std::tie(fb, b.loc.line, b.loc.col);
  });
}

}  // namespace runbook
