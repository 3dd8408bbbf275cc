// The `run` step: a shell command (a string, run by /bin/sh -c) or an argv (a list, no shell), on
// the step's host, as its user, in its cwd, with its env.
#pragma once

#include <memory>
#include <string>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

struct RunStep final : StepKind {
  static constexpr const char* kKey = "run";
  static std::unique_ptr<StepKind> Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags);

  Command command;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  void Define(DefinitionBuilder& def) const override;
  StepDescription Describe(StepEnv& env) const override;
  std::vector<std::string> Observe(StepEnv& env) const override;
  StepOutcome Run(StepEnv& env) const override;
  bool SyncsStartWhileSettingUp(bool on_remote_host) const override { return on_remote_host; }
};

}  // namespace runbook
