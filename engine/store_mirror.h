// A run's journal copied into the team's state store as it is written (engine/journal.h
// JournalMirror, engine/pg_store.h): each record is committed in the store before the engine goes
// on, with the run's summary (steps done, outcome) that `history` lists. Step logs stream into
// the store while their steps run: every second the whole lines a running step's log gained are
// appended, and the rest when the step has finished, so `logs --follow` from another machine
// shows a running step's output within a second or two. Logs are read from the files the engine
// writes, where secrets are already masked.
//
// The local journal stays the spool: when the store goes away the copying stops, the records stay
// durable locally, and the executor starts no new step (Journal::mirror_error). A resume opens
// the mirror again, which first copies what the store lacks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/journal.h"
#include "engine/pg_store.h"

namespace runbook {

class StoreMirror : public JournalMirror {
 public:
  // Copies the run `run_id`, whose step logs are in `log_dir`, into `store`: the connection that
  // holds the run's lock in the store (engine/pg_store.h), so that losing one is losing the other.
  // `existing`: the records the local journal already holds (a resume); the store gets those it
  // lacks, and the logs with them. Running steps' logs are sent every `stream_every`.
  static Result<std::unique_ptr<StoreMirror>> Open(
      std::unique_ptr<PgStore> store, const std::string& run_id, const std::string& log_dir,
      const std::vector<nlohmann::json>& existing,
      std::chrono::milliseconds stream_every = std::chrono::seconds(1));
  ~StoreMirror() override;
  Status Record(const nlohmann::json& record) override;

 private:
  StoreMirror(std::unique_ptr<PgStore> store, std::string run_id, std::string log_dir);
  // Tracks the summary the store's runs row shows, and which steps run.
  void Note(const nlohmann::json& record);
  int StepsDone() const;
  // Appends what the store lacks of the step's log: whole lines only while the step runs, all
  // of it once it has ended. mu_ held.
  Status SendLog(const std::string& step, bool whole_lines);
  // The streamer thread: running steps' logs every `every`, until the mirror is destroyed or
  // the store fails.
  void Stream(std::chrono::milliseconds every);

  std::unique_ptr<PgStore> store_;  // guarded by mu_ (the journal's thread and the streamer)
  const std::string run_id_, log_dir_;
  std::map<std::string, std::string> step_outcome_;  // the last outcome of each step
  std::string outcome_, ended_;                      // of run_finished; "" while unfinished

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                           // guarded by mu_
  std::string failed_;                              // guarded by mu_; the store's first error
  std::set<std::string> running_;                   // guarded by mu_; steps started, not ended
  std::map<std::string, PgStore::LogExtent> sent_;  // guarded by mu_; what the store holds
  std::thread streamer_;
};

}  // namespace runbook
