// `runbook report RUN_ID [-o FILE]` and `run --report FILE`: a run's journal, its step logs and
// what the runs before it took, read from the state directory or the team's store, rendered as
// the page of cli/report_html.h.
#pragma once

#include <string>

namespace runbook {

// Writes the report of run `run_id` of the state directory `state_dir` to `path`. False, with a
// message on stderr, when the run cannot be read or the file cannot be written.
bool WriteRunReport(const std::string& state_dir, const std::string& run_id,
                    const std::string& path);

// The command: the run by id, from the state directory or (with `store_url`) the team's store;
// the report to `out_path` ("-": standard output), by default RUN_ID.html here.
int CmdReport(const std::string& run_id, const std::string& out_path, const std::string& store_url);

}  // namespace runbook
