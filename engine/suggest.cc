#include "engine/suggest.h"

#include <algorithm>

namespace runbook {

size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  // Three rows suffice for the transposition rule.
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::optional<std::string> Suggest(std::string_view given,
                                   const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    if (c == given) continue;
    const size_t len = std::max(c.size(), given.size());
    const size_t limit = std::max<size_t>(1, std::min<size_t>(3, len / 3));
    const size_t d = EditDistance(given, c);
    if (d <= limit && (!best || d < best_distance)) {
      best = c;
      best_distance = d;
    }
  }
  if (best || given.size() < 3) return best;
  // An abbreviation ("int" for "integer", "bool" for "boolean"), when it is unambiguous.
  for (const std::string& c : candidates) {
    if (c.size() > given.size() && c.compare(0, given.size(), given) == 0) {
      if (best) return std::nullopt;
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view given, const std::vector<std::string>& candidates) {
  std::optional<std::string> s = Suggest(given, candidates);
  return s ? " (did you mean '" + *s + "'?)" : std::string();
}

}  // namespace runbook
