// Durations, sizes and integers as written in runbooks.
//
// Durations: one or more <digits><unit> groups, units in decreasing order and each at most once:
//   d (24h), h, m, s, ms.   "500ms", "90s", "5m", "2h", "1h30m", "1d", "0s".
// No spaces, no sign, no fractions, no bare numbers ("30" is refused: say "30s" or "30m").
//
// Sizes: <digits> followed by an optional unit. Units follow the IEC/SI convention, as `du --si`
// and systemd do: B (or none) = bytes; kB/KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB
// are powers of 1024. "1MB" = 1000000, "512KiB" = 524288, "123" = 123. No spaces, no fractions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/diag.h"
#include "engine/model.h"

namespace runbook {

// Parses a duration; on error the message says what is wrong, e.g.
// "'5 minutes' is not a duration (use e.g. 90s, 5m, 2h, 1h30m)".
Result<Duration> ParseDuration(std::string_view text);

// Canonical form: largest units first, zero groups left out: 90s -> "1m30s", 0 -> "0s",
// 1500ms -> "1s500ms", 36h -> "1d12h". REQUIRES: d >= 0.
std::string FormatDuration(Duration d);

// A measured time as the operator reads it: "0.4s", "23.3s" under a minute, else "2m05s".
std::string FormatElapsed(double seconds);

// Parses a size to bytes; on error the message says what is wrong.
Result<uint64_t> ParseSize(std::string_view text);

// Integers: an optional sign, then decimal digits without a leading zero. YAML 1.1 reads "010" as
// octal 8 and YAML 1.2 as 10, so such a number is refused, as yes/no are, rather than guessed.
// The refusal's text for `text` (e.g. "010 has a leading zero (...)"), or "" when it has none.
std::string LeadingZeroProblem(std::string_view text);

}  // namespace runbook
