// The ssh implementation of RemoteHosts (engine/remote_hosts.h), over the OpenSSH client with one
// master connection per host per run (ControlMaster, socket in `control_dir`), opened lazily and
// closed by CloseAll().
#pragma once

#include <memory>
#include <string>

#include "engine/process.h"
#include "engine/remote_hosts.h"

namespace runbook {

// `processes` runs the local ssh client; it must outlive the result.
std::unique_ptr<RemoteHosts> MakeSshHosts(const std::string& control_dir, ProcessRunner* processes);

}  // namespace runbook
