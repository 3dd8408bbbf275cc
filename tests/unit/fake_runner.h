// A ProcessRunner for plan tests: nothing runs; a command succeeds unless its script contains
// "false" (so a `command` guard holds or does not, as the test's runbook says).
#pragma once

#include <string>

#include "engine/process.h"

namespace runbook {

class FakeRunner : public ProcessRunner {
 public:
  ProcessResult Run(const ProcessSpec& spec, OutputSink*, const CancelToken&) override {
    ProcessResult r;
    r.started = true;
    r.exit_code = spec.argv.back().find("false") == std::string::npos ? 0 : 1;
    return r;
  }
};

}  // namespace runbook
