// The step kinds and guard kinds this build of runbook knows: the one list of them.
#pragma once

#include "engine/step_kind.h"

namespace runbook {

const KindRegistry& BuiltinKinds();

}  // namespace runbook
