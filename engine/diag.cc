#include "engine/diag.h"

#include <algorithm>
#include <tuple>

namespace runbook {

std::string Location::ToString() const {
  std::string s = file.empty() ? std::string("<unknown>") : file;
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (col > 0) s += ':' + std::to_string(col);
  }
  return s;
}

std::string Diagnostic::ToString() const {
  return loc.ToString() + ": " + message;
}

void Diagnostics::SortByLocation() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.loc.file, a.loc.line, a.loc.col) <
           std::tie(b.loc.file, b.loc.line, b.loc.col);
  });
}

}  // namespace runbook
