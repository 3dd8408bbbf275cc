#include "steps/backup_fresh.h"

#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "engine/reader.h"
#include "engine/template.h"
#include "engine/units.h"
#include "steps/collect_sink.h"
#include "steps/command_line.h"

namespace runbook {

namespace {

struct FileInfo {
  int64_t mtime = 0;
  uint64_t size = 0;
  std::string path;
};

// Reads what kListScript prints: the host's clock, then one "MTIME SIZE NAME\0" record per line.
// A name may hold newlines (the line then continues on the next ones): only the NUL ends it.
class ListingSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    if (stream != Stream::kStdout) {
      errors.emplace_back(line);
      return;
    }
    if (!have_now) {
      have_now = true;
      now = std::strtoll(std::string(line).c_str(), nullptr, 10);
      return;
    }
    record.append(line);
    if (record.empty() || record.back() != '\0') {
      record += '\n';  // the name goes on
      return;
    }
    record.pop_back();
    FileInfo f;
    const size_t sp1 = record.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? sp1 : record.find(' ', sp1 + 1);
    if (sp2 != std::string::npos) {
      f.mtime = std::strtoll(record.substr(0, sp1).c_str(), nullptr, 10);
      f.size = std::strtoull(record.substr(sp1 + 1, sp2 - sp1 - 1).c_str(), nullptr, 10);
      f.path = record.substr(sp2 + 1);
      files.push_back(std::move(f));
    }
    record.clear();
  }
  bool have_now = false;
  int64_t now = 0;
  std::vector<FileInfo> files;
  std::vector<std::string> errors;

 private:
  std::string record;
};

// Lists the files matching the pattern $1 on a host reached through a shell: the script is fixed
// and the pattern is data (an unquoted expansion with IFS empty undergoes pathname expansion
// only, never parsing), so no name or pattern is ever read as code. Names are NUL-terminated.
constexpr const char* kListScript =
    "IFS=; date +%s || exit 1; for f in $1; do [ -f \"$f\" ] || continue; "
    "printf '%s %s' \"$(stat -L -c '%Y %s' -- \"$f\")\" \"$f\"; printf '\\0\\n'; done; exit 0";

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

// True when `name` holds a control character: no backup is named so, and a newline in a name is
// how a listing could be made to show a forged file, so such names never count.
bool HasControl(const std::string& name) {
  return std::any_of(name.begin(), name.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// The files matching `pattern` on this machine, listed here: glob(3) and stat(2), no shell.
bool ListHere(const std::string& pattern, ListingSink* files, std::string* error) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    globfree(&g);
    *error = rc == GLOB_NOSPACE ? "out of memory" : "a directory could not be read";
    return false;
  }
  files->now = static_cast<int64_t>(std::time(nullptr));
  for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) {
    struct stat st {};
    if (::stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files->files.push_back(
        {static_cast<int64_t>(st.st_mtime), static_cast<uint64_t>(st.st_size), g.gl_pathv[i]});
  }
  globfree(&g);
  return true;
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
  if (verify) {
    check.CommandLine(*verify, "a backup_fresh verify command");
    // `{}` once stood for the backup's path, spliced into the command: the path is data now.
    for (const Text& word : verify->words) {
      const size_t at = word.raw.find("{}");
      if (at == std::string::npos || (!verify->shell && word.raw != "{}")) continue;
      check.Error(LocationIn(word, at),
                  "{} in a backup_fresh verify command: the backup's path is never put into the "
                  "command's text; it is in $BACKUP_FILE and the last argument: write "
                  "\"$BACKUP_FILE\" instead");
    }
  }
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

  // Listed here when the guard's host is this machine as this user; elsewhere by a fixed script
  // that gets the pattern as an argument, with the host's own clock. Either way every name is
  // checked against the pattern again and names with control characters never count.
  ListingSink files;
  if (env.RunsHere(guard.host)) {
    std::string error;
    if (!ListHere(*pattern, &files, &error)) {
      result.summary = "backup_fresh: could not list " + *pattern + ": " + error;
      return result;
    }
  } else {
    Command listing;
    listing.words.push_back(Text{kListScript, guard.path.loc});
    ProcessResult r = env.RunCommand(listing, guard.host, &files, CommandInputs{{}, {*pattern}});
    if (!r.ok() || !files.have_now) {
      result.summary = "backup_fresh: could not list " + *pattern + ": " + r.Describe();
      result.evidence = files.errors;
      return result;
    }
  }
  size_t refused = 0;
  files.files.erase(std::remove_if(files.files.begin(), files.files.end(),
                                   [&](const FileInfo& f) {
                                     const bool bad = HasControl(f.path) ||
                                                      ::fnmatch(pattern->c_str(), f.path.c_str(),
                                                                FNM_PATHNAME) != 0;
                                     refused += bad;
                                     return bad;
                                   }),
                    files.files.end());
  if (refused > 0) {
    result.evidence.push_back(std::to_string(refused) + " name" + (refused == 1 ? "" : "s") +
                              " with control characters (or not matching) ignored");
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
    // The path is data: in BACKUP_FILE and as the last argument (a script's $1), never text.
    ProcessResult v =
        env.RunCommand(*guard.verify, guard.host, &output,
                       CommandInputs{{{"BACKUP_FILE", newest->path}}, {newest->path}});
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
