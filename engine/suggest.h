// "Did you mean" suggestions for misspelt names (keys, kinds, step ids, params).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runbook {

// Optimal-string-alignment (Damerau-Levenshtein with adjacent transpositions) distance.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `given`, when close enough to be a likely typo: distance at most
// max(1, min(3, len/3)) where len is the longer of the two (so "rum" -> "run", "nedds" -> "needs",
// but "x" suggests nothing for "timeout"). Ties go to the earlier candidate. Failing that, the
// one candidate that `given` (3+ characters) abbreviates: "int" -> "integer". A candidate equal
// to `given` is never suggested.
std::optional<std::string> Suggest(std::string_view given,
                                   const std::vector<std::string>& candidates);

// " (did you mean 'needs'?)" or "" when there is no suggestion: append to a message.
std::string DidYouMean(std::string_view given, const std::vector<std::string>& candidates);

}  // namespace runbook
