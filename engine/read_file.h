// Reading a whole input file (runbook, inventory, saved plan, secret, SQL file) into memory.
#pragma once

#include <cstddef>
#include <string>

#include "engine/diag.h"

namespace runbook {

// Input files larger than this are refused: no runbook, inventory, plan or secret comes near it,
// and a cap keeps `/dev/zero` or a runaway generator from exhausting memory.
inline constexpr size_t kMaxInputBytes = 16u << 20;

// The contents of the regular file at `path`. A directory, a FIFO, a device, a file larger than
// kMaxInputBytes or a read error is an error whose message completes "PATH: ..." (for example
// "is a directory, not a file"). A FIFO is never opened for reading, so it cannot block.
Result<std::string> ReadFile(const std::string& path);

}  // namespace runbook
