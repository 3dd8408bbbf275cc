// `backup_fresh` guard: the newest file matching `path` (a glob, on the guard's host) is younger
// than `max_age`, at least `min_size`, and passes `verify` (a command run with the file: `{}` in
// the command is replaced by the quoted path, otherwise the path is appended as the last word).
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
  std::optional<Command> verify;  // e.g. pg_restore --list {}
  std::optional<NameRef> host;    // default: the step's host

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  GuardResult Evaluate(StepEnv& env) const override;
};

// `path` as a shell word that still expands as a glob: * ? [ ] stay active, all else is literal.
std::string GlobWord(const std::string& path);

}  // namespace runbook
