// `runbook completion bash|zsh`: a shell completion script made from the command line's own
// definition (CLI11), so commands and options never drift from what the binary accepts. Step ids
// (after --only, --from, --rerun) and run ids (for resume, status, logs, report) are listed at
// completion time by the hidden `runbook __complete steps FILE | runs`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace runbook {

// The bash script; `shell` "zsh" wraps the same function for zsh's bashcompinit.
std::string CompletionScript(const CLI::App& app, const std::string& shell);

// `runbook __complete steps FILE`: the runbook's step ids, one per line (nothing when it does not
// load). `runbook __complete runs`: run ids, newest first. Always exits 0: a completion that
// fails must not print errors into the operator's command line.
int CmdCompleteIds(const std::string& what, const std::string& file);

}  // namespace runbook
