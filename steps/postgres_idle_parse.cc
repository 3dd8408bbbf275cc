#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<PostgresIdleGuard> ParsePostgresIdleGuard(const DocNode& value,
                                                        const std::string& owner,
                                                        Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "max_active", "ignore_applications"};
  MapReader r(value, "'postgres_idle' guard of " + owner, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  PostgresIdleGuard g;
  auto db = r.RequireName("db");
  if (auto n = r.Int("max_active", 0, 1'000'000)) g.max_active = static_cast<int>(*n);
  if (auto apps = r.TextList("ignore_applications", AllowSingle::kYes)) {
    for (Text& t : *apps) g.ignore_applications.push_back(std::move(t.raw));
  }
  if (!db) return std::nullopt;
  g.db = std::move(*db);
  return g;
}

}  // namespace runbook
