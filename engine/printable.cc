#include "engine/printable.h"

#include <cstdint>
#include <cstdio>

namespace runbook {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (overlong forms, surrogates
// and code points past U+10FFFF are not), or 0.
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  size_t n = 0;
  uint32_t min = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char hex[8];
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c == '\t' || c == '\n' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = Utf8Length(text.substr(i));
      if (n == 2 && c == 0xc2 && static_cast<uint8_t>(text[i + 1]) < 0xa0) {
        std::snprintf(hex, sizeof hex, "\\u%04x", static_cast<uint8_t>(text[i + 1]));  // C1
        out += hex;
        i += 2;
        continue;
      }
      if (n > 0) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
    }
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += hex;
    ++i;
  }
  return out;
}

}  // namespace runbook
