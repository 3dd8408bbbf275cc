#include "engine/process_table.h"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/lock.h"

namespace runbook {
namespace {

std::string ReadSmall(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Comm(int pid) {
  std::string name = ReadSmall("/proc/" + std::to_string(pid) + "/comm");
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

// State letter and process group from /proc/PID/stat ("pid (comm) S ppid pgrp ..."); the name
// may hold spaces and parentheses, so fields are counted after its last ')'.
bool StatOf(int pid, char* state, int* pgrp) {
  const std::string stat = ReadSmall("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 1));
  int ppid = 0;
  return static_cast<bool>(fields >> *state >> ppid >> *pgrp);
}

}  // namespace

std::vector<ProcessEntry> ProcessesInGroup(int pgid) {
  std::vector<ProcessEntry> found;
  if (pgid <= 0) return found;
  DIR* proc = opendir("/proc");
  if (!proc) return found;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    char state = 0;
    int pgrp = 0;
    if (!StatOf(static_cast<int>(pid), &state, &pgrp) || pgrp != pgid || state == 'Z') continue;
    found.push_back({static_cast<int>(pid), Comm(static_cast<int>(pid))});
  }
  closedir(proc);
  std::sort(found.begin(), found.end(),
            [](const ProcessEntry& a, const ProcessEntry& b) { return a.pid < b.pid; });
  return found;
}

std::string DescribeProcesses(const std::vector<ProcessEntry>& processes) {
  std::string out;
  for (const ProcessEntry& p : processes) {
    out += (out.empty() ? "" : ", ") + std::string("pid ") + std::to_string(p.pid) + " (" + p.name +
           ")";
  }
  return out;
}

EngineLiveness EngineLivenessOf(int pid, const std::string& host, const std::string& boot_id) {
  const LockHolder me = ThisProcess();
  if (host != me.host) return EngineLiveness::kElsewhere;
  if (pid <= 0 || boot_id != me.boot_id) return EngineLiveness::kDead;
  char state = 0;
  int pgrp = 0;
  if (!StatOf(pid, &state, &pgrp) || state == 'Z') return EngineLiveness::kDead;
  // A pid reused by another program is not our engine.
  return Comm(pid) == Comm(me.pid) ? EngineLiveness::kAlive : EngineLiveness::kDead;
}

}  // namespace runbook
