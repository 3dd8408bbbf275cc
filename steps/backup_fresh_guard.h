// `backup_fresh` guard: the newest file matching `path` (a glob, on the guard's host) is younger
// than `max_age`, at least `min_size`, and passes `verify` (a command run with the file: `{}` in
// the command is replaced by the quoted path, otherwise the path is appended as the last word).
#pragma once

#include <string>

#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

GuardResult EvalBackupFresh(const BackupFreshGuard& guard, StepEnv& env);

// `path` as a shell word that still expands as a glob: * ? [ ] stay active, all else is literal.
std::string GlobWord(const std::string& path);

}  // namespace runbook
