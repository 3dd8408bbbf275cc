// Secret values: read from the environment or a file when a run or plan starts, kept in memory
// only, and handed to the template scope and to the output redaction list. Never journaled.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"

namespace runbook {

using SecretValues = std::map<std::string, std::string>;

// Reads every secret of the runbook. A missing variable or unreadable file is an error naming the
// secret and where it was looked for (never the value). A file's trailing newline is dropped.
// Once a secret is read, the process is no longer dumpable: no core file, no /proc/PID/mem or
// environ for other processes of the user.
Result<SecretValues> LoadSecrets(const Runbook& rb);

// Secrets shorter than this garble output when masked (a value "on" masks every "on").
inline constexpr size_t kMinSecretLength = 6;

// For `validate`: a warning ("FILE:LINE:COL: warning: ...") for each secret that can be read now
// and is (or has a line) shorter than kMinSecretLength. Values are never shown.
std::vector<std::string> ShortSecretWarnings(const Runbook& rb);

// The non-empty secret values and each line of those of several lines, longest first: what
// output redaction (a line at a time) replaces with "***".
std::vector<std::string> RedactionList(const SecretValues& secrets);

// The environment variables the runbook's secrets are read from: taken out of every child's
// environment (ProcessSpec::unset_env), so a secret reaches a command only through a step's `env`.
std::vector<std::string> SecretEnvNames(const Runbook& rb);

// `text` with every occurrence of each value of `redact` replaced by "***".
std::string Mask(std::string_view text, const std::vector<std::string>& redact);

}  // namespace runbook
