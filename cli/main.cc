// The `runbook` binary: everything lives in the runbook_cli library; see cli/runbook_main.h.
#include "cli/runbook_main.h"

int main(int argc, char** argv) {
  return runbook::RunbookMain(argc, argv);
}
