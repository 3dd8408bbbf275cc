// libFuzzer target: arbitrary bytes through the loader and validator. Any crash, sanitizer report
// or hang is a bug: the loader must turn every input into a model or into diagnostics.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/diag.h"
#include "engine/loader.h"
#include "steps/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  runbook::LoadOptions options;
  options.kinds = &runbook::BuiltinKinds();
  // Params without values are allowed so that inputs get past param checks into the validator.
  options.require_params = runbook::RequireParams::kNo;
  runbook::Diagnostics diags;
  (void)runbook::LoadRunbookFromString("fuzz.yaml", text, options, &diags);
  return 0;
}
