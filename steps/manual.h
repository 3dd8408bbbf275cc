// The `manual` step: text shown to the operator; the run waits until they confirm it was done.
#pragma once

#include <memory>
#include <string>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

struct ManualStep final : StepKind {
  static constexpr const char* kKey = "manual";
  static std::unique_ptr<StepKind> Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags);

  Text text;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  void Define(DefinitionBuilder& def) const override;
  StepDescription Describe(StepEnv& env) const override;
  std::vector<std::string> Observe(StepEnv& env) const override;
  StepOutcome Run(StepEnv& env) const override;
};

}  // namespace runbook
