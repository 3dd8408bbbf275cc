#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<CommandGuard> ParseCommandGuard(const DocNode& value, const std::string& owner,
                                              Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"run", "host"};
  CommandGuard g;
  if (!value.IsMap()) {
    auto c = ParseCommand(value, "'command'", diags);
    if (!c) return std::nullopt;
    g.command = std::move(*c);
    return g;
  }
  MapReader r(value, "'command' guard of " + owner, kKeys, diags);
  const DocNode* run = r.Require("run");
  g.host = r.Name("host");
  if (!run) return std::nullopt;
  auto c = ParseCommand(*run, "'run'", diags);
  if (!c) return std::nullopt;
  g.command = std::move(*c);
  return g;
}

}  // namespace runbook
