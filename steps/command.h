// `command` guard: holds when the command exits 0 (on the guard's host, default the step's).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

class MapReader;

struct CommandGuard final : GuardKind {
  static constexpr const char* kKey = "command";
  static std::unique_ptr<GuardKind> Parse(const MapReader& guard, const DocNode& value,
                                          const std::string& owner, Diagnostics* diags);

  Command command;
  std::optional<NameRef> host;  // default: the step's host

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  GuardResult Evaluate(StepEnv& env) const override;
};

}  // namespace runbook
