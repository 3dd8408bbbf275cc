#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<SqlStep> ParseSqlStep(const DocNode& value, const std::string& owner,
                                    Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "query", "file", "show", "expect"};
  MapReader r(value, "'sql' of " + owner, kKeys, diags);
  if (!r.ok()) return std::nullopt;
  SqlStep s;
  bool ok = true;
  if (auto db = r.RequireName("db")) {
    s.db = std::move(*db);
  } else {
    ok = false;
  }
  s.query = r.GetText("query");
  s.file = r.GetText("file");
  if (r.Has("query") && r.Has("file")) {
    diags->Error(r.GetKey("file")->loc,
                 "'sql' of " + owner + " has both 'query' and 'file': keep one");
    ok = false;
  } else if (!r.Has("query") && !r.Has("file")) {
    diags->Error(value.loc, "'sql' of " + owner + " needs 'query' or 'file'");
    ok = false;
  }
  if (r.Has("show")) {
    if (auto show = r.Choice("show", {"table", "none"})) {
      s.show = *show == 0 ? ShowMode::kTable : ShowMode::kNone;
    } else {
      ok = false;
    }
  }
  s.expect = r.GetText("expect");
  if (!ok) return std::nullopt;
  return s;
}

}  // namespace runbook
