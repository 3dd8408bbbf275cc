#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<SqlGuard> ParseSqlGuard(const DocNode& value, const std::string& owner,
                                      Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "query", "expect", "expect_rows"};
  const std::string context = "'sql' guard of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  SqlGuard g;
  auto db = r.RequireName("db");
  auto query = r.RequireText("query");
  g.expect = r.GetText("expect");
  g.expect_rows = r.Int("expect_rows", 0, INT64_MAX);
  bool ok = true;
  if (r.Has("expect") && r.Has("expect_rows")) {
    diags->Error(r.GetKey("expect_rows")->loc,
                 context + " has both 'expect' and 'expect_rows': keep one");
    ok = false;
  }
  if (!db || !query || !ok) return std::nullopt;
  g.db = std::move(*db);
  g.query = std::move(*query);
  return g;
}

}  // namespace runbook
