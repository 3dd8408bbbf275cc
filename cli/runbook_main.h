// The command-line front end: parses arguments, dispatches to the commands, returns the exit code
// of the contract (0 ok, 1 step failed, 2 invalid/usage, 3 guard blocked, 4 lock/refused, 130
// interrupted). The only place that catches exceptions from the libraries it uses (CLI11).
#pragma once

namespace runbook {

int RunbookMain(int argc, char** argv);

}  // namespace runbook
