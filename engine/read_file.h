// Reading a whole file into memory.
#pragma once

#include <string>

namespace runbook {

// Reads the file at `path` into `*text`. False when it cannot be opened. A read error after
// opening (a directory, an I/O error) ends the text where it happened, as a stream copy does.
bool ReadFile(const std::string& path, std::string* text);

}  // namespace runbook
