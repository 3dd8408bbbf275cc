// Shell quoting of whole words: turning an argv into one command line for /bin/sh (POSIX sh,
// dash), as ssh and `sudo ... /bin/sh -s` need one.
//
// Only whole words are quoted: no value is ever spliced into the middle of a script someone
// wrote (a `${{ }}` in shell text is refused by validate; values reach scripts as environment
// variables or arguments), so nothing here has to understand shell syntax.
#pragma once

#include <string>
#include <string_view>

namespace runbook {

// Returns `word` as one shell word: unchanged when it is non-empty and made only of characters
// that are never special ([A-Za-z0-9_@%+:,./-]), else single-quoted with each ' written as '\''.
std::string ShellQuote(std::string_view word);

}  // namespace runbook
