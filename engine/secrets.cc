#include "engine/secrets.h"

#include <sys/prctl.h>

#include <algorithm>
#include <cstdlib>

#include "engine/read_file.h"

namespace runbook {

namespace {

// A core file of this process would hold the secrets: none once one is read. Children are
// dumpable again after their exec (their own environment is theirs to protect).
void StopBeingDumpable() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// The secret's value, or why it cannot be read ("environment variable X is not set").
Result<std::string> ReadSecret(const Secret& s) {
  StopBeingDumpable();
  if (s.source == Secret::Source::kEnv) {
    const char* v = std::getenv(s.ref.c_str());
    if (!v) return Result<std::string>::Error("environment variable " + s.ref + " is not set");
    return std::string(v);
  }
  Result<std::string> read = ReadFile(s.ref);
  if (!read.ok()) return Result<std::string>::Error("file " + s.ref + " " + read.message());
  std::string v = std::move(read).value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

}  // namespace

Result<SecretValues> LoadSecrets(const Runbook& rb) {
  SecretValues values;
  std::string errors;
  for (const Secret& s : rb.secrets) {
    Result<std::string> v = ReadSecret(s);
    if (!v.ok()) {
      errors += (errors.empty() ? "" : "\n") + s.loc.ToString() + ": secret '" + s.name +
                "': " + v.message();
      continue;
    }
    values[s.name] = std::move(v).value();
  }
  if (!errors.empty()) return Result<SecretValues>::Error(errors);
  return values;
}

std::vector<std::string> ShortSecretWarnings(const Runbook& rb) {
  std::vector<std::string> warnings;
  for (const Secret& s : rb.secrets) {
    Result<std::string> v = ReadSecret(s);
    if (!v.ok()) continue;
    size_t shortest = v->size();
    for (const std::string& piece : RedactionList({{s.name, *v}})) {
      shortest = std::min(shortest, piece.size());
    }
    if (shortest < kMinSecretLength) {
      warnings.push_back(s.loc.ToString() + ": warning: secret '" + s.name + "' " +
                         (shortest == v->size() ? "is" : "has a line") + " shorter than " +
                         std::to_string(kMinSecretLength) +
                         " characters: output is masked by replacing every occurrence of it "
                         "with ***, which would garble ordinary text");
    }
  }
  return warnings;
}

std::vector<std::string> SecretEnvNames(const Runbook& rb) {
  std::vector<std::string> names;
  for (const Secret& s : rb.secrets) {
    if (s.source == Secret::Source::kEnv) names.push_back(s.ref);
  }
  return names;
}

std::vector<std::string> RedactionList(const SecretValues& secrets) {
  std::vector<std::string> list;
  for (const auto& [name, value] : secrets) {
    if (!value.empty()) list.push_back(value);
    // Output is masked a line at a time: a secret of several lines never shows whole in one, so
    // each of its lines is masked on its own.
    if (value.find('\n') == std::string::npos) continue;
    size_t start = 0;
    while (start < value.size()) {
      size_t nl = value.find('\n', start);
      if (nl == std::string::npos) nl = value.size();
      std::string line = value.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) list.push_back(std::move(line));
      start = nl + 1;
    }
  }
  // Longest first, so a secret that contains another is masked whole.
  std::sort(list.begin(), list.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return list;
}

std::string Mask(std::string_view text, const std::vector<std::string>& redact) {
  std::string out(text);
  for (const std::string& secret : redact) {
    for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

}  // namespace runbook
