// Text from outside (other sessions' query texts, server messages, child output, names given on
// the command line) made safe to show on a terminal: a control character in it could move the
// cursor, clear the screen or retitle the window, and so forge what the operator reads.
//
// Only what is shown on a terminal goes through this; log files keep the bytes as they came.
#pragma once

#include <string>
#include <string_view>

namespace runbook {

// `text` with every control character but tab and newline written as \xHH (ESC as \x1b), C1
// controls (U+0080..U+009F) as \u0080.., and bytes that are not UTF-8 as \xHH; a backslash stays
// a backslash. Printable text is returned unchanged.
std::string Printable(std::string_view text);

}  // namespace runbook
