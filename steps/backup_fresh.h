// `backup_fresh` guard: the newest file matching `path` (a glob, on the guard's host) is younger
// than `max_age`, at least `min_size`, and passes `verify` (a command that gets the file's path
// as data: in $BACKUP_FILE and as its last argument). Names are listed without a shell on this
// machine, by a fixed script elsewhere; a name with a control character never counts.
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

struct BackupFreshGuard final : GuardKind {
  static constexpr const char* kKey = "backup_fresh";
  static std::unique_ptr<GuardKind> Parse(const MapReader& guard, const DocNode& value,
                                          const std::string& owner, Diagnostics* diags);

  Text path;                      // a glob
  std::optional<Text> max_age;    // duration
  std::optional<Text> min_size;   // size, e.g. "1MB"
  std::optional<Command> verify;  // e.g. pg_restore --list "$BACKUP_FILE"
  std::optional<NameRef> host;    // default: the step's host

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  GuardResult Evaluate(StepEnv& env) const override;
};

}  // namespace runbook
