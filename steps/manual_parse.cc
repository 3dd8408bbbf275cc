#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {

std::optional<ManualStep> ParseManualStep(const DocNode& value, const std::string&,
                                          Diagnostics* diags) {
  std::optional<Text> text = ReadText(value, "'manual' (the text shown to the operator)", diags);
  if (!text) return std::nullopt;
  if (text->raw.find_first_not_of(" \t\n") == std::string::npos) {
    diags->Error(value.loc, "'manual' needs the text to show to the operator");
    return std::nullopt;
  }
  return ManualStep{std::move(*text)};
}

}  // namespace runbook
