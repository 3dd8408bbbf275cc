#include "steps/backup_fresh.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "engine/reader.h"
#include "engine/shell_quote.h"
#include "engine/units.h"
#include "steps/collect_sink.h"
#include "steps/command_line.h"

namespace runbook {

std::string GlobWord(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr("/._-+,=@%:*?[]", c)) {
      out += c;
    } else if (c == '\n') {
      out += "'\n'";
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

namespace {

struct FileInfo {
  int64_t mtime = 0;
  uint64_t size = 0;
  std::string path;
};

// Collects "now SECONDS" and "MTIME SIZE PATH" lines printed by the listing script.
class ListingSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    if (stream != Stream::kStdout) {
      errors.emplace_back(line);
      return;
    }
    std::istringstream in{std::string(line)};
    std::string first;
    in >> first;
    if (first == "now") {
      in >> now;
      return;
    }
    FileInfo f;
    f.mtime = std::strtoll(first.c_str(), nullptr, 10);
    in >> f.size;
    in.get();
    std::getline(in, f.path);
    if (!f.path.empty()) files.push_back(f);
  }
  int64_t now = 0;
  std::vector<FileInfo> files;
  std::vector<std::string> errors;
};

std::string Age(int64_t seconds) {
  if (seconds < 0) seconds = 0;
  std::string s;
  if (seconds >= 86400) s += std::to_string(seconds / 86400) + "d";
  if (seconds >= 3600) s += std::to_string(seconds % 86400 / 3600) + "h";
  if (seconds >= 60 && seconds < 86400) s += std::to_string(seconds % 3600 / 60) + "m";
  if (seconds < 3600) s += std::to_string(seconds % 60) + "s";
  return s;
}

std::string Bytes(uint64_t n) {
  char buf[32];
  if (n >= 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1f GB", n / 1e9);
  } else if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", n / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  }
  return buf;
}

// The verify command with the backup's path in it.
Command WithPath(const Command& verify, const std::string& path) {
  Command c = verify;
  if (c.shell) {
    std::string& raw = c.words[0].raw;
    const std::string quoted = ShellQuote(path);
    size_t pos = raw.find("{}");
    if (pos == std::string::npos) {
      raw += " " + quoted;
    } else {
      for (; pos != std::string::npos; pos = raw.find("{}", pos + quoted.size())) {
        raw.replace(pos, 2, quoted);
      }
    }
    return c;
  }
  bool replaced = false;
  for (Text& w : c.words) {
    if (w.raw == "{}") {
      w.raw = path;
      replaced = true;
    }
  }
  if (!replaced) c.words.push_back(Text{path, verify.words.back().loc});
  return c;
}

}  // namespace

std::unique_ptr<GuardKind> BackupFreshGuard::Parse(const MapReader& guard, const DocNode& value,
                                                   const std::string& owner, Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"path", "max_age", "min_size", "verify", "host"};
  MapReader r(value, "'backup_fresh' guard of " + owner, kKeys, diags);
  if (!r.ok()) return nullptr;
  BackupFreshGuard g;
  auto path = r.RequireText("path");
  g.max_age = r.GetText("max_age");
  if (g.max_age) CheckLiteral(*g.max_age, "'max_age'", ParseDuration, diags);
  g.min_size = r.GetText("min_size");
  if (g.min_size) CheckLiteral(*g.min_size, "'min_size'", ParseSize, diags);
  bool ok = true;
  if (const DocNode* v = r.Get("verify")) {
    g.verify = ParseCommand(*v, "'verify'", diags);
    ok = g.verify.has_value();
  }
  g.host = r.Name("host");
  if (!path || !ok) return nullptr;
  g.path = std::move(*path);
  if (!ReadHostBeside(guard, &g.host, diags)) return nullptr;
  return std::make_unique<BackupFreshGuard>(std::move(g));
}

void BackupFreshGuard::Check(KindCheck& check) const {
  check.Template(path);
  check.Template(max_age);
  check.Template(min_size);
  if (verify) check.CommandLine(*verify, "a backup_fresh verify command line");
  if (host) check.Host(*host);
}

GuardResult BackupFreshGuard::Evaluate(StepEnv& env) const {
  const BackupFreshGuard& guard = *this;
  GuardResult result;
  auto pattern = env.Render(guard.path);
  if (!pattern.ok()) {
    result.summary = "backup_fresh: " + pattern.message();
    return result;
  }
  std::optional<Duration> max_age;
  if (guard.max_age) {
    auto text = env.Render(*guard.max_age);
    if (text.ok()) {
      auto d = ParseDuration(*text);
      if (d.ok()) max_age = *d;
    }
    if (!text.ok() || !max_age) {
      result.summary = "backup_fresh: max_age is not a duration: " + guard.max_age->raw;
      return result;
    }
  }
  std::optional<uint64_t> min_size;
  if (guard.min_size) {
    auto text = env.Render(*guard.min_size);
    if (text.ok()) {
      auto n = ParseSize(*text);
      if (n.ok()) min_size = *n;
    }
    if (!text.ok() || !min_size) {
      result.summary = "backup_fresh: min_size is not a size: " + guard.min_size->raw;
      return result;
    }
  }

  // One listing script for local and ssh hosts alike; the host's own clock dates the files.
  const std::string script = "date +'now %s'; for f in " + GlobWord(*pattern) +
                             "; do [ -f \"$f\" ] && stat -c '%Y %s %n' -- \"$f\"; done; exit 0";
  Command listing;
  listing.shell = true;
  listing.words.push_back(Text{script, guard.path.loc});
  ListingSink files;
  ProcessResult r = env.RunCommand(listing, guard.host, &files);
  if (!r.ok()) {
    result.summary = "backup_fresh: could not list " + *pattern + ": " + r.Describe();
    result.evidence = files.errors;
    return result;
  }
  if (files.files.empty()) {
    result.summary = "no backup matches " + *pattern;
    return result;
  }
  const FileInfo* newest = &files.files[0];
  for (const FileInfo& f : files.files) {
    if (f.mtime > newest->mtime) newest = &f;
  }
  const int64_t age = files.now - newest->mtime;
  result.evidence.push_back("newest: " + newest->path + ", " + Age(age) + " old, " +
                            Bytes(newest->size) + " (" + std::to_string(files.files.size()) +
                            " matching)");
  bool held = true;
  std::vector<std::string> problems;
  if (max_age && age * 1000 > max_age->count()) {
    held = false;
    problems.push_back("older than " + guard.max_age->raw);
  }
  if (min_size && newest->size < *min_size) {
    held = false;
    problems.push_back("smaller than " + guard.min_size->raw);
  }
  if (held && guard.verify) {
    CollectSink output(10);
    ProcessResult v = env.RunCommand(WithPath(*guard.verify, newest->path), guard.host, &output);
    result.evidence.push_back("verify: " + v.Describe());
    if (!v.ok()) {
      held = false;
      problems.push_back("verify failed");
      for (const std::string& line : output.lines()) result.evidence.push_back("  " + line);
    }
  }
  result.held = held;
  std::string summary = "newest backup " + newest->path + " is " + Age(age) + " old";
  if (!problems.empty()) {
    summary += ": ";
    for (size_t i = 0; i < problems.size(); ++i) summary += (i ? ", " : "") + problems[i];
  }
  result.summary = summary;
  return result;
}

}  // namespace runbook
