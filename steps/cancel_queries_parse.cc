#include "engine/reader.h"
#include "engine/units.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<CancelQueriesStep> ParseCancelQueriesStep(const DocNode& value,
                                                        const std::string& owner,
                                                        Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "older_than", "read_only",
                                                 "application_name"};
  MapReader r(value, "'cancel_queries' of " + owner, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  CancelQueriesStep c;
  auto db = r.RequireName("db");
  c.older_than = r.GetText("older_than");
  if (c.older_than) CheckLiteral(*c.older_than, "'older_than'", ParseDuration, diags);
  if (auto ro = r.Bool("read_only")) c.read_only = *ro;
  c.application_name = r.GetText("application_name");
  if (!db) return std::nullopt;
  c.db = std::move(*db);
  return c;
}

}  // namespace runbook
