// What runs on this machine, read from /proc: the live processes of a process group (a resume
// looks for processes of a step whose engine died) and whether a run's engine is still alive
// (status tells a running run from a dead engine).
#pragma once

#include <string>
#include <vector>

namespace runbook {

struct ProcessEntry {
  int pid = 0;
  std::string name;  // /proc/PID/comm: the program's name, never its arguments (they may be data)
};

// The processes of group `pgid` that have not exited (zombies left out), by pid.
std::vector<ProcessEntry> ProcessesInGroup(int pgid);

// "pid 12 (sleep), pid 13 (sh)".
std::string DescribeProcesses(const std::vector<ProcessEntry>& processes);

enum class EngineLiveness {
  kAlive,      // same host and boot, the pid is alive and runs this program
  kDead,       // same host: the pid is gone, runs something else, or the machine rebooted since
  kElsewhere,  // another host: cannot be told from here
};

// Whether the engine that journaled (pid, host, boot_id) still runs.
EngineLiveness EngineLivenessOf(int pid, const std::string& host, const std::string& boot_id);

}  // namespace runbook
