// Commands as runbooks write them (`run:` steps, command guards, backup_fresh's verify), and the
// host a guard runs its command on.
#pragma once

#include <optional>
#include <string_view>

#include "engine/diag.h"
#include "engine/doc.h"
#include "engine/model.h"
#include "engine/reader.h"

namespace runbook {

// A string is a shell script, a sequence of strings an argv (no shell). An empty script or argv
// is an error. `what` names the field in messages ("'run'").
std::optional<Command> ParseCommand(const DocNode& value, std::string_view what,
                                    Diagnostics* diags);

// Takes a `host` written beside the guard's kind key (`- command: test -f /x` + `host: prod`
// reads naturally) into `*host`, which the guard's own mapping may have set already: given
// twice is an error. False when the guard is unusable.
bool ReadHostBeside(const MapReader& guard, std::optional<NameRef>* host, Diagnostics* diags);

}  // namespace runbook
