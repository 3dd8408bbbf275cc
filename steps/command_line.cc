#include "steps/command_line.h"

namespace runbook {

std::optional<Command> ParseCommand(const DocNode& value, std::string_view what,
                                    Diagnostics* diags) {
  Command c;
  if (value.IsScalar()) {
    if (value.scalar.find_first_not_of(" \t\n") == std::string::npos) {
      diags->Error(value.loc, std::string(what) + " is an empty command");
      return std::nullopt;
    }
    c.shell = true;
    c.words.push_back({value.scalar, value.loc, value.raw_col});
    return c;
  }
  if (value.IsSeq()) {
    std::optional<std::vector<Text>> words = ReadTextList(value, what, AllowSingle::kNo, diags);
    if (!words) return std::nullopt;
    if (words->empty()) {
      diags->Error(value.loc, std::string(what) + " is an empty argv list");
      return std::nullopt;
    }
    c.shell = false;
    c.words = std::move(*words);
    return c;
  }
  ReportType(value, "a command (a string, or a list of strings for an argv)", what, diags);
  return std::nullopt;
}

bool ReadHostBeside(const MapReader& guard, std::optional<NameRef>* host, Diagnostics* diags) {
  const DocNode* key = guard.GetKey("host");
  if (!key) return true;
  if (host->has_value()) {
    diags->Error(key->loc, "'host' is given twice for this guard: keep one");
    return false;
  }
  *host = guard.Name("host");
  return host->has_value();
}

}  // namespace runbook
