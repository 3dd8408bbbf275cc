// The line splitter of the process runner (engine/line_splitter.h).
#include "engine/line_splitter.h"

#include <algorithm>

namespace runbook {
namespace {

// Replaces every occurrence of a secret by "***". `secrets` is sorted longest first, so when one
// secret contains another the longer one wins.
std::string Redact(std::string_view line, const std::vector<std::string>& secrets) {
  if (secrets.empty()) return std::string(line);
  std::string out;
  out.reserve(line.size());
  size_t i = 0;
  while (i < line.size()) {
    bool matched = false;
    for (const std::string& s : secrets) {
      if (line.compare(i, s.size(), s) == 0) {
        out += "***";
        i += s.size();
        matched = true;
        break;
      }
    }
    if (!matched) out += line[i++];
  }
  return out;
}

}  // namespace

std::vector<std::string> RedactionOrder(const std::vector<std::string>& redact) {
  std::vector<std::string> secrets;
  for (const std::string& s : redact) {
    if (!s.empty()) secrets.push_back(s);
  }
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

LineSplitter::LineSplitter(Stream stream, OutputSink* out, const std::vector<std::string>* secrets)
    : stream_(stream), out_(out), secrets_(secrets) {
  for (const std::string& s : *secrets) max_secret_ = std::max(max_secret_, s.size());
}

void LineSplitter::Feed(std::string_view data) {
  partial_.append(data);
  size_t start = 0;
  for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    EmitCut(std::string_view(partial_).substr(start, nl - start));
  }
  partial_.erase(0, start);
  // Cut a line still growing only once every secret that could straddle the cut has arrived.
  while (partial_.size() >= kMaxLine + max_secret_) {
    size_t cut = SafeCut(partial_);
    Emit(std::string_view(partial_).substr(0, cut));
    partial_.erase(0, cut);
  }
}

void LineSplitter::Finish() {
  if (!partial_.empty()) EmitCut(partial_);
  partial_.clear();
}

void LineSplitter::Emit(std::string_view line) {
  if (out_ != nullptr) out_->Line(stream_, Redact(line, *secrets_));
}

// A complete line, in pieces of at most kMaxLine bytes.
void LineSplitter::EmitCut(std::string_view line) {
  while (line.size() > kMaxLine) {
    size_t cut = SafeCut(line);
    Emit(line.substr(0, cut));
    line.remove_prefix(cut);
  }
  Emit(line);
}

// A cut position at or before kMaxLine that does not split an occurrence of a secret.
size_t LineSplitter::SafeCut(std::string_view text) const {
  size_t cut = kMaxLine;
  for (bool moved = true; moved;) {
    moved = false;
    for (const std::string& s : *secrets_) {
      size_t from = cut >= s.size() ? cut - s.size() + 1 : 0;
      size_t pos = text.find(s, from);
      if (pos != std::string::npos && pos > 0 && pos < cut && pos + s.size() > cut) {
        cut = pos;
        moved = true;
      }
    }
  }
  return cut;
}

}  // namespace runbook
