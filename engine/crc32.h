// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) of a byte string.
//
// The journal prefixes each record with this checksum so a torn or corrupted line is detected on
// read. Kept in its own unit so tests can craft lines with valid checksums.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace runbook {

// CRC-32 of `data`; Crc32("123456789") == 0xcbf43926.
uint32_t Crc32(std::string_view data);

// The same checksum as 8 lower-case hex digits, as written at the start of a journal line.
std::string Crc32Hex(std::string_view data);

}  // namespace runbook
