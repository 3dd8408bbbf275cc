#include "steps/command.h"

#include "engine/reader.h"
#include "steps/collect_sink.h"
#include "steps/command_line.h"

namespace runbook {

std::unique_ptr<GuardKind> CommandGuard::Parse(const MapReader& guard, const DocNode& value,
                                               const std::string& owner, Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"run", "host"};
  CommandGuard g;
  if (!value.IsMap()) {
    auto c = ParseCommand(value, "'command'", diags);
    if (!c) return nullptr;
    g.command = std::move(*c);
    if (!ReadHostBeside(guard, &g.host, diags)) return nullptr;
    return std::make_unique<CommandGuard>(std::move(g));
  }
  MapReader r(value, "'command' guard of " + owner, kKeys, diags);
  const DocNode* run = r.Require("run");
  g.host = r.Name("host");
  if (!run) return nullptr;
  auto c = ParseCommand(*run, "'run'", diags);
  if (!c) return nullptr;
  g.command = std::move(*c);
  if (!ReadHostBeside(guard, &g.host, diags)) return nullptr;
  return std::make_unique<CommandGuard>(std::move(g));
}

void CommandGuard::Check(KindCheck& check) const {
  check.CommandLine(command, "a command guard's command");
  if (host) check.Host(*host);
}

GuardResult CommandGuard::Evaluate(StepEnv& env) const {
  const CommandGuard& guard = *this;
  CollectSink output;
  ProcessResult r = env.RunCommand(guard.command, guard.host, &output);
  GuardResult result;
  result.held = r.ok();
  std::string what;
  for (const Text& w : guard.command.words) what += (what.empty() ? "" : " ") + w.raw;
  result.summary = "command `" + what + "`: " + r.Describe();
  result.evidence = output.lines();
  return result;
}

}  // namespace runbook
