#include "engine/secrets.h"

#include <algorithm>
#include <cstdlib>

#include "engine/read_file.h"

namespace runbook {

Result<SecretValues> LoadSecrets(const Runbook& rb) {
  SecretValues values;
  std::string errors;
  for (const Secret& s : rb.secrets) {
    if (s.source == Secret::Source::kEnv) {
      const char* v = std::getenv(s.ref.c_str());
      if (!v) {
        errors += (errors.empty() ? "" : "\n") + s.loc.ToString() + ": secret '" + s.name +
                  "': environment variable " + s.ref + " is not set";
        continue;
      }
      values[s.name] = v;
    } else {
      Result<std::string> read = ReadFile(s.ref);
      if (!read.ok()) {
        errors += (errors.empty() ? "" : "\n") + s.loc.ToString() + ": secret '" + s.name +
                  "': file " + s.ref + " " + read.message();
        continue;
      }
      std::string v = std::move(read).value();
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      values[s.name] = v;
    }
  }
  if (!errors.empty()) return Result<SecretValues>::Error(errors);
  return values;
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
