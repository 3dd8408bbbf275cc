#include "cli/state_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/executor.h"
#include "engine/journal.h"
#include "engine/pg_store.h"
#include "engine/state_dir.h"

namespace runbook {

int CmdStateInit(const std::string& url, bool print_sql) {
  if (print_sql) {
    std::fputs(StoreSchemaSql().c_str(), stdout);
    return kExitOk;
  }
  if (url.empty()) {
    std::fprintf(stderr, "runbook: state init needs --state URL or RUNBOOK_STATE_URL\n");
    return kExitInvalid;
  }
  auto store = PgStore::Open(url, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  std::printf("state store ready (schema runbook, version %d)\n", kStoreSchemaVersion);
  return kExitOk;
}

int CmdStateImport(const std::string& url, const std::string& dir) {
  if (url.empty()) {
    std::fprintf(stderr, "runbook: state import needs --state URL or RUNBOOK_STATE_URL\n");
    return kExitInvalid;
  }
  auto store = PgStore::Open(url, /*create=*/true);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    return kExitRefused;
  }
  int imported = 0, present = 0, failed = 0;
  for (const RunInfo& run : ListRuns(dir, "")) {
    auto contents = ReadJournal(run.journal);
    if (!contents.ok()) {
      std::fprintf(stderr, "runbook: run %s not imported: %s\n", run.run_id.c_str(),
                   contents.message().c_str());
      ++failed;
      continue;
    }
    std::vector<std::pair<std::string, std::string>> logs;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(run.dir + "/logs", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= 4 || name.substr(name.size() - 4) != ".log") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      logs.emplace_back(name.substr(0, name.size() - 4), text.str());
    }
    auto r = (*store)->ImportRun(contents->records, logs);
    if (!r.ok()) {
      std::fprintf(stderr, "runbook: run %s not imported: %s\n", run.run_id.c_str(),
                   r.message().c_str());
      ++failed;
    } else if (*r) {
      ++imported;
    } else {
      ++present;
    }
  }
  std::printf("imported %d run%s; %d already in the store; %d not imported\n", imported,
              imported == 1 ? "" : "s", present, failed);
  return failed == 0 ? kExitOk : kExitRefused;
}

}  // namespace runbook
