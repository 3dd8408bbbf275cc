// The `runbook` binary: everything lives in the runbook_cli library; see cli/runbook_main.h.
//
// The one boundary where exceptions end: errors are values inside the engine, but a library
// (yaml-cpp, nlohmann_json, CLI11, the standard library) may still throw, and memory may run
// out. Whatever escapes becomes one line and exit 2 (invalid input), never an abort with a core.
#include <cstdio>
#include <exception>
#include <new>

#include "cli/runbook_main.h"
#include "engine/executor.h"

int main(int argc, char** argv) {
  try {
    return runbook::RunbookMain(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("runbook: out of memory\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runbook: internal error: %s\n", e.what());
  } catch (...) {
    std::fputs("runbook: internal error\n", stderr);
  }
  return runbook::kExitInvalid;
}
