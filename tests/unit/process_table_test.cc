// The process table as /proc shows it: this test's own group and engine liveness.
#include "engine/process_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/lock.h"

namespace runbook {
namespace {

TEST(ProcessTableTest, FindsThisProcessInItsGroup) {
  std::vector<ProcessEntry> found = ProcessesInGroup(static_cast<int>(getpgrp()));
  bool self = false;
  for (const ProcessEntry& p : found) self = self || p.pid == getpid();
  EXPECT_TRUE(self);
  EXPECT_TRUE(ProcessesInGroup(0).empty());
}

TEST(ProcessTableTest, DescribesByPidAndProgramName) {
  EXPECT_EQ(DescribeProcesses({{12, "sleep"}, {13, "sh"}}), "pid 12 (sleep), pid 13 (sh)");
}

TEST(ProcessTableTest, TellsALiveEngineFromADeadOne) {
  const LockHolder me = ThisProcess();
  EXPECT_EQ(EngineLivenessOf(me.pid, me.host, me.boot_id), EngineLiveness::kAlive);
  EXPECT_EQ(EngineLivenessOf(me.pid, me.host, "another-boot"), EngineLiveness::kDead);
  EXPECT_EQ(EngineLivenessOf(me.pid, me.host + "-elsewhere", me.boot_id),
            EngineLiveness::kElsewhere);
  // pid 1 runs, but not this program.
  EXPECT_EQ(EngineLivenessOf(1, me.host, me.boot_id), EngineLiveness::kDead);
}

}  // namespace
}  // namespace runbook
