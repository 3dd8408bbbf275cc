// A run's journal copied into the team's state store as it is written (engine/journal.h
// JournalMirror, engine/pg_store.h): each record is committed in the store before the engine goes
// on, with the run's summary (steps done, outcome) that `history` lists, and each step's log once
// the step has finished.
//
// The local journal stays the spool: when the store goes away the copying stops, the records stay
// durable locally, and the executor starts no new step (Journal::mirror_error). A resume opens
// the mirror again, which first copies what the store lacks.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "engine/pg_store.h"

namespace runbook {

class StoreMirror : public JournalMirror {
 public:
  // Connects to the store at `url` (creating its schema when missing and allowed) for the run
  // `run_id`, whose step logs are in `log_dir`. `existing`: the records the local journal already
  // holds (a resume); the store gets those it lacks, and the logs with them.
  static Result<std::unique_ptr<StoreMirror>> Open(const std::string& url,
                                                   const std::string& run_id,
                                                   const std::string& log_dir,
                                                   const std::vector<nlohmann::json>& existing);
  Status Record(const nlohmann::json& record) override;

 private:
  StoreMirror(std::unique_ptr<PgStore> store, std::string run_id, std::string log_dir);
  // Tracks the summary the store's runs row shows.
  void Note(const nlohmann::json& record);
  int StepsDone() const;
  Status PutLog(const std::string& step);

  std::unique_ptr<PgStore> store_;
  const std::string run_id_, log_dir_;
  std::map<std::string, std::string> step_outcome_;  // the last outcome of each step
  std::string outcome_, ended_;                      // of run_finished; "" while unfinished
};

}  // namespace runbook
