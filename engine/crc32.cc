#include "engine/crc32.h"

#include <boost/crc.hpp>
#include <cstdio>

namespace runbook {

uint32_t Crc32(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

std::string Crc32Hex(std::string_view data) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(Crc32(data)));
  return std::string(buf, 8);
}

}  // namespace runbook
