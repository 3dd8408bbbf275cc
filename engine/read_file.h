// Reading a whole file into memory, in one exactly sized buffer.
//
// A runbook of 100k steps is 30 MB: copying it through an ostringstream (which doubles its
// buffer, then copies it out) briefly held three times that and took a sixth of `validate`.
#pragma once

#include <string>

namespace runbook {

// Reads the file at `path` into `*text`. False when it cannot be opened. A read error after
// opening (a directory, an I/O error) ends the text where it happened, as a stream copy does.
bool ReadFile(const std::string& path, std::string* text);

}  // namespace runbook
