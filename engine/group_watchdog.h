// The watchdog that ends the steps' process trees when the engine dies.
//
// Every local child runs in its own process group (engine/process.h), so a kill -9 or an OOM kill
// of the engine would leave its steps running unsupervised, and a resume could start a second
// copy beside them. StartGroupWatchdog forks one small process per engine holding the read end of
// a pipe; the engine writes "+PGID\n" when a child's group starts and "-PGID\n" when it is done
// with it. When the engine dies, however it dies, the kernel closes the write end: the watchdog
// reads end of file, sends SIGTERM to every group still registered, SIGKILL to what is left 3 s
// later, and exits. After a normal exit no group is registered and it just exits.
//
// The watchdog is forked from a process that may have threads, so until it exits it makes only
// async-signal-safe calls and allocates nothing: the groups live in a fixed table of
// kMaxWatchedGroups (a group beyond it is not watched; a run has one per running child). It
// ignores SIGINT, SIGQUIT, SIGTERM and SIGHUP, which a terminal sends to its whole foreground
// group: Ctrl-C is the engine's to handle, and after a hangup the run goes on (DECISIONS.md).
#pragma once

#include "engine/diag.h"

namespace runbook {

inline constexpr int kMaxWatchedGroups = 4096;

// Starts the watchdog for this process; later calls do nothing. An error (no pipe, no fork) says
// why: steps would then outlive a killed engine.
Status StartGroupWatchdog();

// Registers / unregisters a process group. Without a watchdog both do nothing.
void WatchGroup(int pgid);
void UnwatchGroup(int pgid);

}  // namespace runbook
