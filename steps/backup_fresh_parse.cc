#include "engine/reader.h"
#include "engine/units.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<BackupFreshGuard> ParseBackupFreshGuard(const DocNode& value,
                                                      const std::string& owner,
                                                      Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"path", "max_age", "min_size", "verify", "host"};
  MapReader r(value, "'backup_fresh' guard of " + owner, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  BackupFreshGuard g;
  auto path = r.RequireText("path");
  g.max_age = r.GetText("max_age");
  if (g.max_age) CheckLiteral(*g.max_age, "'max_age'", ParseDuration, diags);
  g.min_size = r.GetText("min_size");
  if (g.min_size) CheckLiteral(*g.min_size, "'min_size'", ParseSize, diags);
  bool ok = true;
  if (const DocNode* v = r.Get("verify")) {
    g.verify = ParseCommand(*v, "'verify'", diags);
    ok = g.verify.has_value();
  }
  g.host = r.Name("host");
  if (!path || !ok) return std::nullopt;
  g.path = std::move(*path);
  return g;
}

}  // namespace runbook
