#include "steps/run.h"

#include <algorithm>

#include "engine/reader.h"
#include "engine/resolve.h"
#include "steps/command_line.h"

namespace runbook {

std::unique_ptr<StepKind> RunStep::Parse(const DocNode& value, const std::string&,
                                         Diagnostics* diags) {
  std::optional<Command> c = ParseCommand(value, "'run'", diags);
  if (!c) return nullptr;
  auto step = std::make_unique<RunStep>();
  step->command = std::move(*c);
  return step;
}

void RunStep::Check(KindCheck& check) const {
  check.CommandLine(command, "a run command");
}

void RunStep::Define(DefinitionBuilder& def) const {
  const Step& step = def.step();
  def.PutCommand("command", command);
  def.Set("host", def.host());
  def.Put("user", step.user);
  def.Put("cwd", step.cwd);
  StepDefinition::StringMap env;
  env.reserve(step.env.size());
  for (const auto& [name, text] : step.env) env.emplace_back(name, def.Display(text));
  // A JSON object's order (the names are unique: they were keys of one YAML mapping).
  std::sort(env.begin(), env.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  def.Set("env", std::move(env));
}

StepDescription RunStep::Describe(StepEnv&) const {
  return {};  // the plan shows the command, user, cwd and env from the definition
}

std::vector<std::string> RunStep::Observe(StepEnv&) const {
  return {};
}

StepOutcome RunStep::Run(StepEnv& env) const {
  ProcessResult r = env.RunCommand(command, std::nullopt, &env.Out());
  return {r.ok(), r.Describe()};
}

}  // namespace runbook
