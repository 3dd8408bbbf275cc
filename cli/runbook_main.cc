#include "cli/runbook_main.h"

#include <cstdio>

namespace runbook {

int RunbookMain(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "runbook: not implemented yet\n");
  return 2;
}

}  // namespace runbook
