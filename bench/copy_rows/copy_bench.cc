// Runs the two copy_rows steps of the benchmark through RunCopyRowsStep, as the engine would:
//   sample-files:  copy_rows {table: waveforms_file, order_by: id, every: N}, saving `id`
//   sample-traces: copy_rows {table: waveforms_continuoustrace,
//                             match: {column: file_id, step: sample-files, parent_column: id}}
// Usage: copy_bench SRC_CONNINFO DST_CONNINFO EVERY
// Prints one line per step (the step's own report) and "rows BYTES" totals on the last line.
#include <cstdio>
#include <regex>

#include "steps/copy_rows_step.h"
#include "tests/unit/fake_step_env.h"

using namespace runbook;  // NOLINT: a tiny driver

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: copy_bench SRC_CONNINFO DST_CONNINFO EVERY\n");
    return 2;
  }
  FakeStepEnv env;
  env.databases["prod"] = {"prod", argv[1], "", ""};
  env.databases["dev"] = {"dev", argv[2], "", ""};
  env.values["params.every"] = argv[3];

  CopyRowsStep files;
  files.from = {"prod", {}};
  files.to = {"dev", {}};
  files.table = T("waveforms_file");
  files.order_by = T("id");
  files.every = T("${{ params.every }}");
  env.step_id_value = "sample-files";
  env.matched_columns = {"id"};
  StepOutcome a = RunCopyRowsStep(files, env);
  std::printf("%s\n", a.message.c_str());
  if (!a.ok) return 1;

  CopyRowsStep traces;
  traces.from = {"prod", {}};
  traces.to = {"dev", {}};
  traces.table = T("waveforms_continuoustrace");
  traces.match = CopyMatch{"file_id", {"sample-files", {}}, "id", {}};
  env.step_id_value = "sample-traces";
  env.matched_columns.clear();
  StepOutcome b = RunCopyRowsStep(traces, env);
  std::printf("%s\n", b.message.c_str());
  return b.ok ? 0 : 1;
}
