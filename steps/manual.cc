#include "steps/manual.h"

#include "engine/reader.h"
#include "engine/resolve.h"

namespace runbook {

std::unique_ptr<StepKind> ManualStep::Parse(const DocNode& value, const std::string&,
                                            Diagnostics* diags) {
  std::optional<Text> text = ReadText(value, "'manual' (the text shown to the operator)", diags);
  if (!text) return nullptr;
  if (text->raw.find_first_not_of(" \t\n") == std::string::npos) {
    diags->Error(value.loc, "'manual' needs the text to show to the operator");
    return nullptr;
  }
  auto step = std::make_unique<ManualStep>();
  step->text = std::move(*text);
  return step;
}

void ManualStep::Check(KindCheck& check) const {
  check.Template(text);
}

void ManualStep::Define(DefinitionBuilder& def) const {
  def.Put("text", text);
}

StepDescription ManualStep::Describe(StepEnv& env) const {
  StepDescription d;
  auto rendered = env.Render(text);
  d.instructions = rendered.ok() ? *rendered : text.raw;
  return d;
}

std::vector<std::string> ManualStep::Observe(StepEnv&) const {
  return {};
}

StepOutcome ManualStep::Run(StepEnv& env) const {
  auto rendered = env.Render(text);
  if (!rendered.ok()) return {false, rendered.message()};
  env.Out().Line(Stream::kInfo, "manual: " + *rendered);
  auto answer = env.AskOperator(*rendered + "\nDone?");
  if (!answer.ok()) return {false, answer.message()};
  if (!*answer) return {false, "the operator did not confirm the manual step"};
  return {true, env.AnswersWithYes() ? "confirmed by --yes (nobody was asked)"
                                     : "confirmed by the operator on the terminal"};
}

}  // namespace runbook
