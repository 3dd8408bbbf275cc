// Reading a step log while its step still writes it, from where the reader left off: the state
// store's mirror streams logs this way (engine/store_mirror.h), and `logs --follow` prints them
// (cli/follow.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/diag.h"

namespace runbook {

// The bytes of the log at `path` from `offset` on, at most `max` of them; "" when the file does
// not exist (the step has written nothing yet). Only a regular file, never through a symlink.
Result<std::string> ReadLogFrom(const std::string& path, int64_t offset, size_t max);

// The length of `bytes` up to and including its last newline; 0 when it has none. A line the
// step is still writing is left for later, so a reader never shows half a line.
size_t WholeLines(std::string_view bytes);

}  // namespace runbook
