#include "steps/command_guard.h"

#include "steps/collect_sink.h"

namespace runbook {

GuardResult EvalCommandGuard(const CommandGuard& guard, StepEnv& env) {
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
