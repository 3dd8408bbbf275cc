#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<MigrationsAppliedGuard> ParseMigrationsAppliedGuard(const DocNode& value,
                                                                  const std::string& owner,
                                                                  Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "django", "migrations_dir"};
  static const std::vector<std::string> kDjangoKeys = {"manage", "python"};
  const std::string context = "'migrations_applied' guard of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  MigrationsAppliedGuard g;
  bool ok = true;
  auto db = r.RequireName("db");
  if (const DocNode* d = r.Get("django")) {
    MapReader dr(*d, "'django' of " + owner, kDjangoKeys, diags);
    auto manage = dr.RequireText("manage");
    if (manage) {
      g.django = DjangoCheck{std::move(*manage), dr.GetText("python")};
    } else {
      ok = false;
    }
  }
  g.migrations_dir = r.GetText("migrations_dir");
  if (r.Has("django") && r.Has("migrations_dir")) {
    diags->Error(r.GetKey("migrations_dir")->loc,
                 context + " has both 'django' and 'migrations_dir': keep one");
    ok = false;
  } else if (!r.Has("django") && !r.Has("migrations_dir")) {
    diags->Error(value.loc, context +
                                " needs 'django: {manage: PATH}' (ask Django) or 'migrations_dir' "
                                "(compare files with django_migrations)");
    ok = false;
  }
  if (!db || !ok) return std::nullopt;
  g.db = std::move(*db);
  return g;
}

}  // namespace runbook
