#include "engine/executor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <queue>
#include <set>
#include <thread>

#include "engine/decide.h"
#include "engine/downtime.h"
#include "engine/graph.h"
#include "engine/guards.h"
#include "engine/host_lock.h"
#include "engine/journal.h"
#include "engine/lock.h"
#include "engine/pg.h"
#include "engine/printable.h"
#include "engine/process_table.h"
#include "engine/remote_hosts.h"
#include "engine/resolve.h"
#include "engine/resume_changes.h"
#include "engine/run_state.h"
#include "engine/secrets.h"
#include "engine/ssh_hosts.h"
#include "engine/state_dir.h"
#include "engine/step_context.h"
#include "engine/step_kind.h"
#include "engine/store_mirror.h"
#include "engine/target_lock.h"

namespace runbook {

namespace {

using Clock = std::chrono::steady_clock;

// Whether the steps that need a step may run after it. A step left out by --only / --from lets
// them run: the operator chose them (docs/DECISIONS.md, issue 15).
bool Satisfies(StepOutcomeKind k) {
  return k == StepOutcomeKind::kSuccess || k == StepOutcomeKind::kDone ||
         k == StepOutcomeKind::kSkipped || k == StepOutcomeKind::kAlreadyDone ||
         k == StepOutcomeKind::kNotSelected;
}

bool Contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string ListText(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& i : items) out += (out.size() > 1 ? ", " : "") + i;
  return out + "]";
}

// By database name, how many connections the run's steps ask for through the pool: the run
// keeps a connection between steps only while one of these remains (PgPool).
std::map<std::string, int> PooledConnections(const Runbook& rb) {
  std::map<std::string, int> uses;
  for (const auto* steps : {&rb.steps, &rb.finally}) {
    for (const Step& s : *steps) {
      for (const std::string& db : s.kind->PooledDatabases()) ++uses[db];
    }
  }
  return uses;
}

// One run in progress: the state every step thread shares.
class Run {
 public:
  Run(const LoadedRunbook& loaded, const ExecOptions& options, const Collaborators& c)
      : loaded_(loaded), rb_(loaded.runbook), options_(options), c_(c) {}

  ExecResult Execute();

 private:
  // Each returns an exit code, or -1 to go on.
  int Prepare();  // lock, run directory, journal, resume state
  int Lock(const LockHolder& me);
  int OpenJournal();  // of a new run, or of the run being resumed
  void StartServices(const LockHolder& me);
  int LockTargets(const LockHolder& me);
  int LockHosts(const LockHolder& me);
  // The team's store: its run lock, the refusal of a new run beside an unfinished one another
  // machine left there, and the journal's mirror.
  int OpenStore(const LockHolder& me);
  // After the store went away: copies the local journal's records and logs the store lacks, once,
  // under the run's lock in the store. "" when done, else why not.
  std::string CopySpool();
  // The store's error once it went away ("" while it holds every record).
  std::string StoreLost() const { return mirror_ ? journal_->mirror_error() : ""; }
  // A resume: what changed in the runbook and in the options since the run last ran, reported
  // before anything runs; the renamed finished steps take their state along.
  void ReportChanges();
  void ReportOptionChanges();
  // --only / --from / --rerun: what they leave out and what they run anyway, before anything runs.
  void ReportSelection(const Graph& graph);
  int JournalStart(const LockHolder& me);
  int ConfirmReruns();
  int RefuseLiveSteps(const LockHolder& me);
  int RefuseLiveRemoteSteps();
  int EndLeftoverSessions();
  // What a resume does with the step (kRun when this is no resume).
  ResumeDecision Resumed(const Step& step) const;
  StepSummary RunStep(const Step& step, int index, int total);
  // Decides, as the plan does (engine/decide.h), whether the step runs: its `if`, done_when and
  // guards. When it does not, the outcome, and why in `*why`.
  std::optional<StepOutcomeKind> BeforeRunning(const Step& step, StepContext& ctx,
                                               const TemplateScope& scope,
                                               const GuardPolicy& policy, std::string* why);
  StepSummary Finish(const Step& step, StepSummary s, int attempt);
  // The downtime window: opened by the first start of `from`, closed (and journaled) when `to`
  // succeeds or is done.
  void OpenWindow(const Step& step);
  void CloseWindow(const Step& step, StepOutcomeKind outcome);
  void Schedule(const Graph& graph);
  void RunFinally();
  int ExitCode() const;
  std::map<std::string, std::vector<std::string>> StepNeeds() const;
  void Sleep(Duration d) const;

  const LoadedRunbook& loaded_;
  const Runbook& rb_;
  const ExecOptions& options_;
  Collaborators c_;

  SecretValues secrets_;
  std::unique_ptr<RunLock> lock_;
  std::unique_ptr<RunLock> shared_lock_;  // `lock: NAME` in this state directory
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<StoreMirror> mirror_;
  std::unique_ptr<RunScope> scope_;
  std::unique_ptr<RemoteHosts> remote_;
  RunData data_;
  std::unique_ptr<PgPool> pg_pool_;
  std::unique_ptr<TargetLocks> target_locks_;
  std::unique_ptr<HostLocks> host_locks_;  // ended before remote_ closes its connections
  std::string leftover_run_;  // the unfinished run resumed or started over, whose sessions end
  // A new run with a store: the unfinished run of this state directory and the refusal it
  // means, unless the store says another machine finished it.
  std::pair<std::string, std::string> local_unfinished_;
  RunServices services_;
  std::string run_id_, run_dir_;
  RunState prior_;  // the journal so far when resuming
  bool resuming_ = false;
  std::vector<std::pair<std::string, std::string>> renamed_;  // (old id, new id), this resume
  std::vector<bool> selected_;  // per step: --only / --from let it run
  std::vector<StepSummary> summaries_;
  std::mutex summaries_mu_;
  bool refused_ = false;
  bool interrupted_ = false;           // Ctrl-C stopped the steps (finally may still run some)
  std::optional<WindowState> window_;  // when the runbook has `downtime:`
  std::mutex window_mu_;
};

int Run::Prepare() {
  auto secrets = LoadSecrets(rb_);
  if (!secrets.ok()) {
    c_.reporter->Notice(secrets.message());
    return kExitInvalid;
  }
  secrets_ = *secrets;
  LockHolder me = ThisProcess();
  me.started = FormatTimestamp(std::chrono::system_clock::now());
  if (int rc = Lock(me); rc >= 0) return rc;
  if (int rc = OpenJournal(); rc >= 0) return rc;
  if (int rc = RefuseLiveSteps(me); rc >= 0) return rc;
  me.run_id = run_id_;
  if (Status st = lock_->SetHolder(me); !st.ok()) c_.reporter->Notice(st.message());
  StartServices(me);
  if (int rc = RefuseLiveRemoteSteps(); rc >= 0) return rc;
  if (resuming_) {
    ReportChanges();
    ReportOptionChanges();
  }
  int locked = LockTargets(me);
  if (locked < 0) locked = LockHosts(me);
  if (locked >= 0) {
    target_locks_.reset();
    host_locks_.reset();
    // A new run refused here has written nothing: its directory goes, so that it is no run.
    if (!resuming_) {
      remote_->CloseAll();
      DiscardUnstartedRun(run_dir_);
    }
    return locked;
  }
  if (int rc = OpenStore(me); rc >= 0) {
    if (!resuming_) DiscardUnstartedRun(run_dir_);
    return rc;
  }
  if (int rc = EndLeftoverSessions(); rc >= 0) return rc;
  if (int rc = JournalStart(me); rc >= 0) return rc;
  if (int rc = ConfirmReruns(); rc >= 0) return rc;
  if (rb_.downtime) {
    window_ = WindowState{rb_.downtime->from.name, rb_.downtime->to.name, "", "", std::nullopt};
    // A window the earlier attempts of this run opened (or closed) stays theirs.
    const std::optional<WindowState>& before = prior_.downtime;
    if (before && before->from == window_->from && before->to == window_->to) window_ = before;
  }
  // What the steps of the resumed run kept is there for the steps still to run.
  for (const auto& [step, state] : prior_.steps) {
    for (const auto& [key, value] : state.data) data_.Put(step, key, value);
  }
  return -1;
}

int Run::Lock(const LockHolder& me) {
  // The runbook's own lock guards its runs in this directory; a `lock:` name shared with other
  // runbooks is the lock directory of that name, so runbooks sharing it exclude each other here
  // too, also when no database server is in common.
  for (const std::string* name : {&rb_.name, &rb_.lock}) {
    if (name->empty() || (name == &rb_.lock && *name == rb_.name)) continue;
    auto attempt = AcquireRunLock(LockPath(options_.state_dir, *name), me);
    if (!attempt.ok()) {
      c_.reporter->Notice("cannot take the lock '" + *name + "': " + attempt.message());
      return kExitRefused;
    }
    if (auto* busy = std::get_if<LockBusy>(&attempt.value())) {
      c_.reporter->Notice(name == &rb_.name ? "runbook '" + rb_.name + "' is locked by " +
                                                  busy->holder.Describe() +
                                                  ": only one run of a runbook at a time"
                                            : "lock '" + *name + "' of runbook '" + rb_.name +
                                                  "' is held by " + busy->holder.Describe() +
                                                  ": runbooks that share a lock run one at a time");
      return kExitRefused;
    }
    auto& acquired = std::get<LockAcquired>(attempt.value());
    (name == &rb_.name ? lock_ : shared_lock_) = std::move(acquired.lock);
    if (acquired.took_over) {
      c_.reporter->Notice("took over a stale lock of " + acquired.took_over->Describe() +
                          (acquired.process_gone ? " (its process is gone)" : ""));
    }
  }
  return -1;
}

int Run::LockTargets(const LockHolder& me) {
  std::map<std::string, std::string> outcomes;
  const TemplateScope scope = scope_->Scope(&outcomes);
  std::vector<DbTarget> targets;
  for (const std::string& name : UsedDatabases(rb_)) {
    auto target = ResolveDatabase(services_, scope, NameRef{name, {}});
    if (!target.ok()) {
      c_.reporter->Notice("cannot take the lock '" + rb_.LockName() + "' on database " + name +
                          ": " + target.message());
      return kExitRefused;
    }
    targets.push_back(std::move(target).value());
  }
  if (targets.empty()) return -1;
  auto attempt = AcquireTargetLocks(rb_.LockName(), targets,
                                    LockApplicationName(run_id_, me.pid, OsUserName(), me.host));
  if (!attempt.ok()) {
    c_.reporter->Notice("cannot take the lock '" + rb_.LockName() + "': " + attempt.message() +
                        "; no step was run");
    return kExitRefused;
  }
  if (auto* busy = std::get_if<TargetLocksBusy>(&attempt.value())) {
    c_.reporter->Notice("lock '" + rb_.LockName() + "' on the server of database " +
                        busy->holder.database + " is held by " + busy->holder.Describe() +
                        ": runs sharing a lock use a server one at a time; no step was run");
    return kExitRefused;
  }
  target_locks_ = std::move(std::get<std::unique_ptr<TargetLocks>>(attempt.value()));
  for (const std::string& why : target_locks_->unreachable) {
    c_.reporter->Notice("lock '" + rb_.LockName() + "' not taken: " + why +
                        "; that server is locked only if another database of the run reaches it");
  }
  return -1;
}

int Run::LockHosts(const LockHolder& me) {
  const std::vector<const Host*> hosts = UsedSshHosts(rb_);
  if (hosts.empty()) return -1;
  HostLockAttempt attempt = AcquireHostLocks(
      remote_.get(), rb_.LockName(), hosts,
      HostLockHolderLine(run_id_, me.pid, me.started, OsUserName(), me.host), services_.cancel);
  if (auto* busy = std::get_if<HostLocksBusy>(&attempt)) {
    c_.reporter->Notice("lock '" + rb_.LockName() + "' on host " + busy->host + " is held by " +
                        busy->holder +
                        ": runs sharing a lock use a host one at a time; no step was run");
    return kExitRefused;
  }
  host_locks_ = std::move(std::get<std::unique_ptr<HostLocks>>(attempt));
  for (const std::string& why : host_locks_->not_locked) {
    c_.reporter->Notice("lock '" + rb_.LockName() + "' not taken on " + why +
                        "; runs from other machines are not kept off that host");
  }
  return -1;
}

int Run::OpenJournal() {
  // The latest run of this runbook decides whether a new run may start.
  std::optional<RunInfo> previous;
  if (!options_.resume_run_id.empty()) {
    previous = FindRun(options_.state_dir, options_.resume_run_id);
    if (!previous) {
      c_.reporter->Notice("no run " + options_.resume_run_id + " in " + options_.state_dir);
      return kExitRefused;
    }
  } else {
    previous = LatestRun(options_.state_dir, rb_.name);
  }
  RunState previous_state;
  if (previous) {
    auto contents = ReadJournal(previous->journal);
    if (!contents.ok()) {
      c_.reporter->Notice("cannot read the journal of run " + previous->run_id + ": " +
                          contents.message());
      return kExitRefused;
    }
    previous_state = ReplayJournal(contents->records);
    // A journal without its first record: the engine died creating it; nothing ever ran.
    if (previous_state.run_id.empty() && options_.resume_run_id.empty()) previous.reset();
  }
  const bool unfinished = previous && Unfinished(previous_state);
  // Statements of an unfinished run may outlive its engine on the servers; resumed or started
  // over, its sessions end before a step runs (EndLeftoverSessions).
  if (unfinished && options_.start != StartMode::kNew) leftover_run_ = previous->run_id;

  if (options_.start == StartMode::kNew && unfinished) {
    const std::string refusal =
        "run " + previous->run_id + " of '" + rb_.name + "' did not finish (" +
        (previous_state.outcome.empty() ? "it was stopped" : previous_state.outcome) +
        "): `runbook resume " + previous->run_id +
        "` continues it, `runbook run --fresh` starts over";
    // With a store, another machine may have finished it: the store decides (OpenStore).
    if (options_.store_url.empty()) {
      c_.reporter->Notice(refusal);
      return kExitRefused;
    }
    local_unfinished_ = {previous->run_id, refusal};
  }
  if (options_.start == StartMode::kResume) {
    if (!unfinished) {
      c_.reporter->Notice(previous ? "run " + previous->run_id + " of '" + rb_.name +
                                         "' already finished successfully: nothing to resume"
                                   : "no run of '" + rb_.name + "' to resume");
      return kExitRefused;
    }
    resuming_ = true;
    prior_ = previous_state;
    run_id_ = previous->run_id;
    run_dir_ = previous->dir;
    std::string warning;
    auto journal = Journal::OpenForAppend(previous->journal, &warning);
    if (!journal.ok()) {
      c_.reporter->Notice("cannot resume run " + run_id_ + ": " + journal.message());
      return kExitRefused;
    }
    if (!warning.empty()) c_.reporter->Notice(warning);
    journal_ = std::move(journal).value();
  } else {
    auto dir = CreateRunDir(options_.state_dir, rb_.name);
    if (!dir.ok()) {
      c_.reporter->Notice(dir.message());
      return kExitRefused;
    }
    run_id_ = dir->run_id;
    run_dir_ = dir->dir;
    auto journal = Journal::Create(dir->journal);
    if (!journal.ok()) {
      c_.reporter->Notice(journal.message());
      return kExitRefused;
    }
    journal_ = std::move(journal).value();
  }

  return -1;
}

void Run::StartServices(const LockHolder& me) {
  scope_ = std::make_unique<RunScope>(&rb_, &loaded_.params, &secrets_, run_id_, run_dir_);
  remote_ = MakeSshHosts(run_dir_, c_.processes);
  services_.scope = scope_.get();
  services_.processes = c_.processes;
  services_.reporter = c_.reporter;
  services_.prompter = c_.prompter;
  services_.journal = journal_.get();
  services_.data = &data_;
  services_.remote = remote_.get();
  pg_pool_ = std::make_unique<PgPool>(PooledConnections(rb_));
  services_.pg_pool = pg_pool_.get();
  services_.cancel = CancelToken(options_.interrupt);
  services_.yes = options_.yes;
  services_.kill_grace = options_.kill_grace;
  services_.redact = RedactionList(secrets_);
  services_.secret_env = SecretEnvNames(rb_);
  services_.log_dir = run_dir_ + "/logs";
  services_.boot_id = me.boot_id;
}

int Run::OpenStore(const LockHolder& me) {
  if (options_.store_url.empty()) return -1;
  // The run lock first: what the store says about earlier runs holds while it is held.
  auto store = PgStore::Open(options_.store_url, /*create=*/true,
                             LockApplicationName(run_id_, me.pid, OsUserName(), me.host));
  if (!store.ok()) {
    c_.reporter->Notice(store.message() + "; no step was run");
    return kExitRefused;
  }
  auto holder = (*store)->TakeRunLock(rb_.LockName());
  if (!holder.ok()) {
    c_.reporter->Notice(holder.message() + "; no step was run");
    return kExitRefused;
  }
  if (*holder) {
    c_.reporter->Notice("lock '" + rb_.LockName() + "' is held in the state store by " +
                        (*holder)->Describe() +
                        ": runs sharing a lock run one at a time; no step was run");
    return kExitRefused;
  }
  if (!local_unfinished_.first.empty()) {
    auto there = (*store)->FindRun(local_unfinished_.first);
    if (!there.ok()) {
      c_.reporter->Notice(there.message() + "; no step was run");
      return kExitRefused;
    }
    if (!*there || (*there)->outcome != "success") {
      c_.reporter->Notice(local_unfinished_.second);
      return kExitRefused;
    }
    c_.reporter->Notice("run " + local_unfinished_.first +
                        ", unfinished here, was finished from another machine (state store)");
  }
  if (!resuming_) {
    // A run that another machine left unfinished is in the store only.
    auto other = (*store)->UnfinishedRun(rb_.name);
    if (!other.ok()) {
      c_.reporter->Notice(other.message() + "; no step was run");
      return kExitRefused;
    }
    if (*other && (*other)->run_id != run_id_) {
      const RunState& o = **other;
      if (options_.start == StartMode::kNew) {
        c_.reporter->Notice("run " + o.run_id + " of '" + rb_.name + "', started by " +
                            Printable(OperatorName(o.user, o.host)) + ", did not finish (" +
                            (o.outcome.empty() ? "it was stopped" : o.outcome) +
                            "): `runbook resume " + o.run_id +
                            "` continues it, here too (it is in the state store), `runbook run "
                            "--fresh` starts over");
        return kExitRefused;
      }
      // --fresh: statements of that run's engine may still run on the servers.
      if (leftover_run_.empty()) leftover_run_ = o.run_id;
    }
  }
  std::vector<nlohmann::json> existing;
  if (resuming_) {
    auto contents = ReadJournal(journal_->path());
    if (!contents.ok()) {
      c_.reporter->Notice("cannot read the journal of run " + run_id_ + ": " + contents.message());
      return kExitRefused;
    }
    existing = std::move(contents->records);
  }
  auto mirror = StoreMirror::Open(std::move(store).value(), run_id_, run_dir_ + "/logs", existing);
  if (!mirror.ok()) {
    c_.reporter->Notice(mirror.message() + "; no step was run");
    return kExitRefused;
  }
  mirror_ = std::move(mirror).value();
  journal_->SetMirror(mirror_.get());
  return -1;
}

std::string Run::CopySpool() {
  const LockHolder me = ThisProcess();
  auto store = PgStore::Open(options_.store_url, /*create=*/false,
                             LockApplicationName(run_id_, me.pid, OsUserName(), me.host));
  if (!store.ok()) return store.message();
  // Someone may have resumed the run from the store meanwhile: its records come first then.
  auto holder = (*store)->TakeRunLock(rb_.LockName());
  if (!holder.ok()) return holder.message();
  if (*holder) return "the lock is held in the state store by " + (*holder)->Describe();
  auto contents = ReadJournal(journal_->path());
  if (!contents.ok()) return contents.message();
  auto copy =
      StoreMirror::Open(std::move(store).value(), run_id_, run_dir_ + "/logs", contents->records);
  return copy.ok() ? "" : copy.message();
}

int Run::JournalStart(const LockHolder& me) {
  nlohmann::json start;
  if (resuming_) {
    RunResumedInfo info;
    info.pid = me.pid;
    info.user = OsUserName();
    info.host = me.host;
    info.boot_id = me.boot_id;
    info.selection = options_.selection;
    if (options_.inventories != prior_.inventories) info.inventories = options_.inventories;
    if (options_.sets != prior_.sets) info.sets = options_.sets;
    if (loaded_.params != prior_.params) info.params = loaded_.params;
    for (const Step& s : rb_.steps) info.step_ids.push_back(s.id);
    for (const Step& s : rb_.finally) info.finally_ids.push_back(s.id);
    info.step_needs = StepNeeds();
    info.renamed = renamed_;
    start = RunResumedRecord(info);
  } else {
    RunStartedInfo info;
    info.run_id = run_id_;
    info.runbook = rb_.name;
    info.path = rb_.path;
    info.inventories = options_.inventories;
    info.sets = options_.sets;
    info.params = loaded_.params;
    for (const Step& s : rb_.steps) info.step_ids.push_back(s.id);
    for (const Step& s : rb_.finally) info.finally_ids.push_back(s.id);
    info.step_needs = StepNeeds();
    info.selection = options_.selection;
    info.pid = me.pid;
    info.user = OsUserName();
    info.host = me.host;
    info.boot_id = me.boot_id;
    if (rb_.downtime) info.downtime = {{rb_.downtime->from.name, rb_.downtime->to.name}};
    start = RunStartedRecord(info);
  }
  Status st = journal_->Append(start);
  if (!st.ok()) {
    c_.reporter->Notice("cannot write the journal: " + st.message());
    return kExitRefused;
  }

  return -1;
}

ResumeDecision Run::Resumed(const Step& step) const {
  if (!resuming_) return ResumeDecision::kRun;
  auto it = prior_.steps.find(step.id);
  const ResumeDecision d =
      DecideResume(it == prior_.steps.end() ? nullptr : &it->second, step.idempotent);
  // --rerun: the operator runs a finished step again on purpose.
  if (d == ResumeDecision::kFinishedEarlier && Contains(options_.selection.rerun, step.id)) {
    return ResumeDecision::kRun;
  }
  return d;
}

std::map<std::string, std::vector<std::string>> Run::StepNeeds() const {
  std::map<std::string, std::vector<std::string>> needs;
  for (const auto* steps : {&rb_.steps, &rb_.finally}) {
    for (const Step& s : *steps) {
      std::vector<std::string>& names = needs[s.id];
      for (const NameRef& n : s.needs) names.push_back(n.name);
    }
  }
  return needs;
}

void Run::ReportChanges() {
  std::vector<StepShape> now;
  for (const auto* steps : {&rb_.steps, &rb_.finally}) {
    for (const Step& s : *steps) {
      auto def = ResolveDefinition(s, rb_, scope_->StableScope());
      StepShape& shape = now.emplace_back();
      shape.id = s.id;
      shape.hash = def.ok() ? def->Hash() : "";
      for (const NameRef& n : s.needs) shape.needs.push_back(n.name);
      shape.in_finally = s.in_finally;
    }
  }
  const ResumeChanges changes = CompareWithRun(prior_, now);
  if (changes.empty()) return;
  std::string text = "runbook '" + rb_.name + "' changed since run " + run_id_ + " last ran:";
  for (const std::string& line : DescribeChanges(changes, prior_, now)) text += "\n  " + line;
  c_.reporter->Notice(text);
  for (const auto& [old_id, new_id] : changes.renamed) {
    prior_.steps[new_id] = prior_.steps[old_id];
    prior_.steps.erase(old_id);
  }
  renamed_ = changes.renamed;
}

void Run::ReportOptionChanges() {
  std::vector<std::string> lines;
  if (options_.inventories != prior_.inventories) {
    lines.push_back("inventories: " + ListText(prior_.inventories) + " -> " +
                    ListText(options_.inventories));
  }
  std::set<std::string> names;
  for (const auto& [k, v] : prior_.params) names.insert(k);
  for (const auto& [k, v] : loaded_.params) names.insert(k);
  for (const std::string& name : names) {
    auto before = prior_.params.find(name);
    auto after = loaded_.params.find(name);
    const std::string then = before == prior_.params.end() ? "(unset)" : before->second;
    const std::string now = after == loaded_.params.end() ? "(unset)" : after->second;
    if (then != now) lines.push_back("param " + name + ": " + then + " -> " + now);
  }
  if (!options_.selection.empty()) lines.push_back("steps: " + options_.selection.Describe());
  if (lines.empty()) return;
  std::string text = "this resume of run " + run_id_ + " differs from how the run last ran:";
  for (const std::string& line : lines) text += "\n  " + line;
  c_.reporter->Notice(text);
}

void Run::ReportSelection(const Graph& graph) {
  if (options_.selection.empty()) return;
  std::string left_out;
  for (int i : graph.order) {
    const Step& step = rb_.steps[i];
    if (!selected_[i] && Resumed(step) != ResumeDecision::kFinishedEarlier) {
      left_out += (left_out.empty() ? "" : ", ") + step.id;
    }
  }
  if (!left_out.empty()) {
    c_.reporter->Notice(options_.selection.Describe() + ": not run: " + left_out);
  }
  for (int i : graph.order) {
    const Step& step = rb_.steps[i];
    if (!selected_[i]) continue;
    if (Resumed(step) == ResumeDecision::kFinishedEarlier) {
      c_.reporter->Notice("step '" + step.id +
                          "' finished earlier in this run: not run again (`--rerun " + step.id +
                          "` runs it again)");
      continue;
    }
    if (Contains(options_.selection.rerun, step.id) && resuming_) {
      c_.reporter->Notice("step '" + step.id + "' runs again (--rerun)");
    }
    // A need the selection leaves out and that has not finished in this run: the step runs
    // anyway, its guards still evaluated; the operator is told.
    for (int d : graph.deps[i]) {
      if (selected_[d] || Resumed(rb_.steps[d]) == ResumeDecision::kFinishedEarlier) continue;
      c_.reporter->Notice(LeftOutNeedText(step.id, rb_.steps[d].id));
    }
  }
}

// A step whose engine died may still run: its processes escaped the watchdog (it was killed
// too, or they left their group) or are in their last seconds. Rerunning it beside them would
// make two copies, whatever --yes says.
int Run::RefuseLiveSteps(const LockHolder& me) {
  if (!resuming_) return -1;
  std::string alive;
  for (const auto& [id, state] : prior_.steps) {
    if (state.status != StepStatus::kRunning || state.pgid <= 0) continue;
    if (!state.pgid_host.empty()) continue;  // on an ssh host: RefuseLiveRemoteSteps
    if (state.boot_id.empty() || state.boot_id != me.boot_id) continue;  // rebooted since
    std::vector<ProcessEntry> processes = ProcessesInGroup(state.pgid);
    if (processes.empty()) continue;
    alive += "\n  step '" + id + "': process group " + std::to_string(state.pgid) + ": " +
             DescribeProcesses(processes);
  }
  if (alive.empty()) return -1;
  c_.reporter->Notice("run " + run_id_ +
                      ": processes of steps that were running when its engine died are still "
                      "alive; resuming now would run a second copy beside them:" +
                      alive +
                      "\nwait for them to end, or stop them (kill -TERM -- -PGID), then resume");
  return kExitRefused;
}

// The same on ssh hosts: a remote command outlives its engine while its session does (a lost
// network: sshd notices only when TCP gives up) or while it ignores SIGTERM. Asked on the host,
// by a fixed script with the group and boot as arguments. A host that cannot be asked refuses
// too: resuming blind could start the second copy.
int Run::RefuseLiveRemoteSteps() {
  if (!resuming_) return -1;
  struct Lines : OutputSink {
    std::vector<std::string> out;
    std::string err;
    void Line(Stream stream, std::string_view line) override {
      if (stream == Stream::kStdout)
        out.emplace_back(line);
      else
        err = std::string(line);
    }
  };
  // Prints "PID (COMMAND)" for each live process (zombies are dead) of group $2 while the host is
  // still in boot $1.
  static constexpr const char* kLiveGroup =
      "b=-; IFS= read -r b </proc/sys/kernel/random/boot_id 2>/dev/null; "
      "[ \"$1\" = - ] || [ \"$b\" = \"$1\" ] || exit 0; "
      "ps -e -o pgid=,pid=,stat=,comm= | "
      "awk -v g=\"$2\" '$1 == g && $3 !~ /^Z/ { print $2 \" (\" $4 \")\" }'";
  std::string alive, unknown;
  for (const auto& [id, state] : prior_.steps) {
    if (state.status != StepStatus::kRunning || state.pgid <= 1 || state.pgid_host.empty()) {
      continue;
    }
    const Host* host = rb_.FindHost(state.pgid_host);
    const std::string where = "step '" + id + "': process group " + std::to_string(state.pgid) +
                              " on host " + state.pgid_host;
    if (host == nullptr || host->local) {
      unknown += "\n  " + where + ": the runbook no longer names that ssh host";
      continue;
    }
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", kLiveGroup, "sh", state.boot_id, std::to_string(state.pgid)};
    spec.timeout = std::chrono::seconds(30);
    Lines lines;
    ProcessResult r = remote_->Run(*host, spec, &lines, services_.cancel);
    if (!r.ok()) {
      unknown += "\n  " + where + ": cannot ask it: " + (r.error.empty() ? lines.err : r.error);
    } else if (!lines.out.empty()) {
      std::string pids;
      for (const std::string& p : lines.out) pids += (pids.empty() ? "pid " : ", pid ") + p;
      alive += "\n  " + where + ": " + pids;
    }
  }
  if (alive.empty() && unknown.empty()) return -1;
  c_.reporter->Notice(
      "run " + run_id_ + ": " +
      (alive.empty() ? std::string()
                     : "processes of steps that were running when its engine died are still "
                       "alive on their hosts; resuming now would run a second copy beside them:" +
                           alive +
                           "\nwait for them to end, or stop them (kill -TERM -- -PGID "
                           "on the host), then resume") +
      (alive.empty() || unknown.empty() ? "" : "\n") +
      (unknown.empty() ? std::string()
                       : "cannot tell whether steps that were running when its engine died still "
                         "run on their hosts:" +
                             unknown + "\nresume once the host answers"));
  remote_->CloseAll();
  return kExitRefused;
}

// A statement of a dead engine runs on until the server next writes to its client; rerunning its
// step beside it would run it twice (two DELETEs, two CREATE INDEXes fighting over locks).
int Run::EndLeftoverSessions() {
  if (leftover_run_.empty() || !target_locks_) return -1;
  auto sessions = target_locks_->EndSessionsOfRun(leftover_run_, std::chrono::seconds(5));
  if (!sessions.ok()) {
    c_.reporter->Notice(sessions.message() + "; no step was run");
    return kExitRefused;
  }
  std::string left;
  for (const LeftoverSession& s : *sessions) {
    const std::string what = "step '" + s.step + "' of run " + leftover_run_ + " (backend pid " +
                             std::to_string(s.backend_pid) + ", " +
                             (s.state.empty() ? "state unknown" : s.state) +
                             ") on the server of database " + s.database;
    if (s.ended) {
      c_.reporter->Notice("ended the session of " + what + ", left by an engine that died");
    } else {
      left += "\n  " + what;
    }
  }
  if (left.empty()) return -1;
  c_.reporter->Notice("sessions of run " + leftover_run_ +
                      " did not end when cancelled and terminated; running their steps now would "
                      "run them twice:" +
                      left + "\nend them on the server (pg_terminate_backend), then try again");
  return kExitRefused;
}

// Steps that were running when an earlier engine died: rerun only if idempotent or confirmed.
int Run::ConfirmReruns() {
  std::string unconfirmed;
  for (size_t i = 0; i < rb_.steps.size(); ++i) {
    const Step& s = rb_.steps[i];
    if (!selected_[i]) continue;  // it does not run in this resume
    switch (Resumed(s)) {
      case ResumeDecision::kRunAgain:
        c_.reporter->Notice(
            "step '" + s.id +
            "' was running when the engine stopped; it is idempotent and runs again");
        break;
      case ResumeDecision::kNeedsAnswer: {
        std::optional<AnsweredBy> by;
        bool confirmed = false;
        const auto asked = Clock::now();
        if (options_.yes) {
          by = AnsweredBy::kYes;
          confirmed = true;
        } else if (c_.prompter && c_.prompter->interactive()) {
          by = AnsweredBy::kTerminal;
          confirmed = c_.prompter->Confirm("step '" + s.id +
                                           "' was running when the engine stopped and may have "
                                           "partly happened. Run it again?");
        }
        if (by) {
          const auto waited =
              std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked);
          Status st = journal_->Append(ConfirmationRecord(
              s.id, confirmed, *by == AnsweredBy::kYes ? 0 : waited.count(), *by));
          if (!st.ok()) {
            c_.reporter->Notice("cannot write the journal: " + st.message());
            return kExitRefused;
          }
        }
        if (confirmed) {
          c_.reporter->Notice("step '" + s.id +
                              "' was running when the engine stopped; running it again (" +
                              (*by == AnsweredBy::kYes ? "--yes" : "confirmed") + ")");
        } else {
          unconfirmed += (unconfirmed.empty() ? "" : ", ") + s.id;
        }
        break;
      }
      case ResumeDecision::kRun:
      case ResumeDecision::kFinishedEarlier:
        break;
    }
  }
  if (!unconfirmed.empty()) {
    c_.reporter->Notice("step(s) " + unconfirmed +
                        " were running when the engine stopped and are not idempotent: confirm "
                        "rerunning them on a terminal or with --yes");
    return kExitRefused;
  }
  return -1;
}

void Run::Sleep(Duration d) const {
  const auto end = Clock::now() + d;
  while (Clock::now() < end && !services_.cancel.requested()) {
    std::this_thread::sleep_for(Duration(50));
  }
}

void Run::OpenWindow(const Step& step) {
  std::lock_guard<std::mutex> lock(window_mu_);
  if (!window_ || window_->from != step.id || !window_->opened_at.empty()) return;
  window_->opened_at = FormatTimestamp(std::chrono::system_clock::now());
}

void Run::CloseWindow(const Step& step, StepOutcomeKind outcome) {
  std::lock_guard<std::mutex> lock(window_mu_);
  if (!window_ || window_->to != step.id || window_->opened_at.empty() || window_->duration_ms) {
    return;
  }
  if (outcome != StepOutcomeKind::kSuccess && outcome != StepOutcomeKind::kDone) return;
  const std::string closed = FormatTimestamp(std::chrono::system_clock::now());
  const int64_t ms = std::max<int64_t>(
      0, ParseTimestampMs(closed).value_or(0) - ParseTimestampMs(window_->opened_at).value_or(0));
  window_->closed_at = closed;
  window_->duration_ms = ms;
  Status st =
      journal_->Append(DowntimeRecord(window_->from, window_->to, window_->opened_at, closed, ms));
  if (!st.ok()) c_.reporter->Notice("cannot write the journal: " + st.message());
}

StepSummary Run::Finish(const Step& step, StepSummary s, int attempt) {
  // Server messages and command output can quote values: secrets never reach the operator.
  s.message = Mask(s.message, services_.redact);
  scope_->SetOutcome(step.id, StepOutcomeName(s.outcome));
  StepFinishedInfo info;
  info.step = step.id;
  info.outcome = s.outcome;
  info.attempt = attempt;
  info.duration_ms = static_cast<int64_t>(s.seconds * 1000);
  info.message = s.message;
  Status st = journal_->Append(StepFinishedRecord(info));
  if (!st.ok()) {
    // A journal that cannot be made durable must stop the run (LIBRARIES.md §4: never retry).
    c_.reporter->Notice("cannot write the journal: " + st.message() + "; stopping");
    s.outcome = StepOutcomeKind::kFailure;
    s.message = "journal write failed: " + st.message();
  }
  CloseWindow(step, s.outcome);
  c_.reporter->StepFinished(s);
  return s;
}

std::optional<StepOutcomeKind> Run::BeforeRunning(const Step& step, StepContext& ctx,
                                                  const TemplateScope& scope,
                                                  const GuardPolicy& policy, std::string* why) {
  // Phase by phase: what one decides, the later ones are not evaluated for.
  StepFacts facts;
  if (step.if_expr) {
    auto cond = EvaluateCondition(*step.if_expr, scope);
    if (!cond.ok()) {
      *why = cond.message();
      return StepOutcomeKind::kFailure;
    }
    facts.condition = *cond;
  }
  if (DecideStep(facts) == StepDecision::kSkipCondition) {
    *why = "condition is false: " + step.if_expr->raw;
    return StepOutcomeKind::kSkipped;
  }
  if (!step.done_when.empty()) {
    facts.done_when = EvaluatePhase(step.done_when, GuardPhase::kDoneWhen, ctx, *c_.reporter,
                                    journal_.get(), policy)
                          .facts;
    if (DecideStep(facts) == StepDecision::kDone) {
      *why = "already done (done_when held)";
      return StepOutcomeKind::kDone;
    }
  }
  if (step.guards.empty()) return std::nullopt;
  PhaseResult g =
      EvaluatePhase(step.guards, GuardPhase::kGuards, ctx, *c_.reporter, journal_.get(), policy);
  *why = g.message;
  if (services_.cancel.requested()) {
    *why = "interrupted";
    return StepOutcomeKind::kInterrupted;
  }
  facts.guards = g.facts;
  switch (DecideStep(facts)) {
    case StepDecision::kBlocked:
      return StepOutcomeKind::kBlocked;
    case StepDecision::kSkipGuard:
      return StepOutcomeKind::kSkipped;
    case StepDecision::kRun:
    case StepDecision::kSkipCondition:
    case StepDecision::kDone:
      break;
  }
  return std::nullopt;
}

StepSummary Run::RunStep(const Step& step, int index, int total) {
  const auto started = Clock::now();
  StepSummary s;
  s.id = step.id;
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };
  c_.reporter->StepStarted(step.id, index, total);
  StepContext ctx(step, &services_);
  std::map<std::string, std::string> outcomes;
  TemplateScope scope = scope_->Scope(&outcomes);

  auto def = ResolveDefinition(step, rb_, scope_->StableScope());
  const std::string hash = def.ok() ? def->Hash() : "";
  auto fail = [&](StepOutcomeKind kind, std::string message) {
    s.outcome = kind;
    s.message = std::move(message);
    s.seconds = elapsed();
    return Finish(step, s, s.attempts);
  };
  if (!def.ok()) return fail(StepOutcomeKind::kFailure, def.message());

  GuardPolicy policy;
  policy.redact = services_.redact;
  std::string why;
  if (auto kind = BeforeRunning(step, ctx, scope, policy, &why)) return fail(*kind, why);
  if (step.confirm) {
    auto text = ctx.Render(*step.confirm);
    if (!text.ok()) return fail(StepOutcomeKind::kFailure, text.message());
    auto answer = ctx.AskOperator("step '" + step.id + "': " + *text + "\nProceed?");
    if (!answer.ok() || !*answer) {
      refused_ = true;
      return fail(StepOutcomeKind::kInterrupted,
                  answer.ok() ? "not confirmed by the operator" : answer.message());
    }
  }

  const int retries = StepRetries(step, rb_);
  const Host* host = rb_.FindHost(StepHost(step, rb_));
  const bool defer_start_sync =
      step.kind->SyncsStartWhileSettingUp(host != nullptr && !host->local);
  Duration backoff = options_.retry_backoff;
  for (int attempt = 1;; ++attempt) {
    s.attempts = attempt;
    // Some kinds make the record durable while they set up (an ssh session, connections), as
    // they change nothing before that (StepKind::SyncsStartWhileSettingUp).
    Status st = defer_start_sync ? journal_->Write(StepStartedRecord(step.id, attempt, hash))
                                 : journal_->Append(StepStartedRecord(step.id, attempt, hash));
    if (!st.ok()) return fail(StepOutcomeKind::kFailure, "journal write failed: " + st.message());
    if (defer_start_sync) ctx.DeferStartSync();
    OpenWindow(step);
    ctx.StartClock();
    ctx.LogNote("attempt " + std::to_string(attempt) + " of " + std::to_string(retries + 1) +
                " started");
    StepOutcome outcome = step.kind->Run(ctx);
    if (Status synced = ctx.FinishStartSync(); !synced.ok()) {
      return fail(StepOutcomeKind::kFailure, synced.message());
    }
    if (services_.cancel.requested()) {
      ctx.LogNote("attempt " + std::to_string(attempt) + " interrupted: " + outcome.message);
      return fail(StepOutcomeKind::kInterrupted, "interrupted: " + outcome.message);
    }
    if (outcome.ok && !step.verify.empty()) {
      PhaseResult v = EvaluatePhase(step.verify, GuardPhase::kVerify, ctx, *c_.reporter,
                                    journal_.get(), policy);
      StepFacts after;
      after.guards = v.facts;
      if (DecideStep(after) != StepDecision::kRun) {
        outcome.ok = false;
        outcome.message = "verify failed: " + v.message;
      }
    }
    // The attempt's end in the step log: a failed SQL statement's error (message, detail, hint,
    // position) or a command's exit status is in the log, not only on the terminal.
    ctx.LogNote("attempt " + std::to_string(attempt) +
                (outcome.ok             ? " succeeded"
                 : ctx.DeadlinePassed() ? " timed out"
                                        : " failed") +
                (outcome.message.empty() ? "" : ": " + outcome.message));
    if (outcome.ok) {
      s.outcome = StepOutcomeKind::kSuccess;
      s.message = outcome.message;
      s.seconds = elapsed();
      return Finish(step, s, attempt);
    }
    const bool timed_out = ctx.DeadlinePassed();
    if (attempt > retries) {
      return fail(timed_out ? StepOutcomeKind::kTimedOut : StepOutcomeKind::kFailure,
                  outcome.message);
    }
    // A failed attempt that will be retried is journaled as such, then retried after a backoff.
    StepSummary attempt_summary = s;
    attempt_summary.outcome = timed_out ? StepOutcomeKind::kTimedOut : StepOutcomeKind::kFailure;
    attempt_summary.message = outcome.message;
    StepFinishedInfo info;
    info.step = step.id;
    info.outcome = attempt_summary.outcome;
    info.attempt = attempt;
    info.duration_ms = static_cast<int64_t>(elapsed() * 1000);
    info.message = Mask(outcome.message, services_.redact);
    (void)journal_->Append(StepFinishedRecord(info));
    c_.reporter->Notice(
        "step '" + step.id + "' attempt " + std::to_string(attempt) + " of " +
        std::to_string(retries + 1) + " failed (" + outcome.message + "); retrying in " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(backoff).count()) + "s");
    Sleep(backoff);
    if (services_.cancel.requested()) return fail(StepOutcomeKind::kInterrupted, "interrupted");
    backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(60));
  }
}

void Run::Schedule(const Graph& graph) {
  const size_t n = rb_.steps.size();
  std::vector<int> pending_deps(n);
  std::vector<int> position(n);  // index of each step in the topological order
  for (size_t i = 0; i < graph.order.size(); ++i) position[graph.order[i]] = static_cast<int>(i);
  // The ready set, ordered by topological position so ties follow the file order.
  std::priority_queue<std::pair<int, int>, std::vector<std::pair<int, int>>, std::greater<>> ready;
  std::vector<bool> finished(n, false);
  const int total = static_cast<int>(n + rb_.finally.size());
  int started_count = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, StepSummary>> completed;
  // A step's thread is joined as soon as it finishes: a finished, unjoined thread keeps its stack
  // mapped, so the engine's address space would grow with every step of a long run.
  std::map<int, std::thread> threads;
  int running = 0;
  bool stop_new = false;

  auto complete = [&](int i, const StepSummary& s) {
    // Called with `mu` held.
    finished[i] = true;
    {
      std::lock_guard<std::mutex> lock(summaries_mu_);
      summaries_[i] = s;
    }
    if (!Satisfies(s.outcome)) {
      stop_new = true;
      return;
    }
    for (int d : graph.dependents[i]) {
      if (--pending_deps[d] == 0) ready.push({position[d], d});
    }
  };

  {
    std::lock_guard<std::mutex> lock(mu);
    for (size_t i = 0; i < n; ++i) pending_deps[i] = static_cast<int>(graph.deps[i].size());
    for (size_t i = 0; i < n; ++i) {
      if (Resumed(rb_.steps[i]) == ResumeDecision::kFinishedEarlier || !selected_[i]) continue;
      if (pending_deps[i] == 0) ready.push({position[i], static_cast<int>(i)});
    }
    // Steps finished in an earlier attempt of this run count as done without running again.
    for (int i : graph.order) {
      const Step& step = rb_.steps[i];
      if (Resumed(step) != ResumeDecision::kFinishedEarlier) continue;
      auto it = prior_.steps.find(step.id);
      StepSummary s{step.id, StepOutcomeKind::kAlreadyDone, 0, 0,
                    "finished in an earlier attempt (" + it->second.outcome + ")"};
      scope_->SetOutcome(step.id, it->second.outcome.empty() ? "success" : it->second.outcome);
      auto def = ResolveDefinition(step, rb_, scope_->StableScope());
      if (def.ok() && !it->second.hash.empty() && def->Hash() != it->second.hash) {
        c_.reporter->Notice("step '" + step.id +
                            "' finished in an earlier attempt, but its definition changed since; "
                            "it is not run again");
        s.message += "; definition changed since";
      }
      c_.reporter->StepFinished(s);
      complete(i, s);
    }
    // Steps --only / --from leave out: not run, not journaled; the steps that need them may run.
    for (int i : graph.order) {
      const Step& step = rb_.steps[i];
      if (selected_[i] || finished[i]) continue;
      StepSummary s{step.id, StepOutcomeKind::kNotSelected, 0, 0,
                    "left out by " + options_.selection.Describe()};
      c_.reporter->StepFinished(s);
      complete(i, s);
    }
  }

  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    while (!stop_new && !services_.cancel.requested() && running < options_.jobs &&
           !ready.empty() && StoreLost().empty()) {
      const int i = ready.top().second;
      ready.pop();
      if (finished[i]) continue;  // finished in an earlier attempt of this run
      ++running;
      const int index = ++started_count;
      threads[i] = std::thread([this, i, index, total, &mu, &cv, &completed] {
        StepSummary s = RunStep(rb_.steps[i], index, total);
        std::lock_guard<std::mutex> l(mu);
        completed.emplace_back(i, s);
        cv.notify_all();
      });
    }
    if (running == 0) break;
    cv.wait(lock, [&] { return !completed.empty(); });
    while (!completed.empty()) {
      auto [i, s] = completed.front();
      completed.pop_front();
      --running;
      lock.unlock();
      threads[i].join();
      threads.erase(i);
      lock.lock();
      complete(i, s);
    }
  }
  lock.unlock();
  for (auto& [i, t] : threads) t.join();
}

// In file order. After Ctrl-C only the steps marked `on_interrupt: run` (they restore service),
// until a second Ctrl-C. A step whose `needs` did not end well is skipped.
void Run::RunFinally() {
  const int total = static_cast<int>(rb_.steps.size() + rb_.finally.size());
  int index = static_cast<int>(rb_.steps.size());
  std::string not_run;
  for (const Step& step : rb_.finally) {
    if (!StoreLost().empty()) break;
    ++index;
    StepSummary s{step.id, StepOutcomeKind::kNotRun, 0, 0, ""};
    std::string unmet;
    {
      std::lock_guard<std::mutex> lock(summaries_mu_);
      for (const NameRef& need : step.needs) {
        auto it = std::find_if(summaries_.begin(), summaries_.end(),
                               [&](const StepSummary& x) { return x.id == need.name; });
        // A need left out by --only / --from did not succeed in this run.
        if (it == summaries_.end() || !Satisfies(it->outcome) ||
            it->outcome == StepOutcomeKind::kNotSelected) {
          unmet += (unmet.empty() ? "" : ", ") + need.name;
        }
      }
    }
    if (interrupted_ && (!step.run_on_interrupt || services_.cancel.requested())) {
      s.message = "interrupted";
      not_run += (not_run.empty() ? "" : ", ") + step.id;
    } else if (!unmet.empty()) {
      s.outcome = StepOutcomeKind::kSkipped;
      s.message = "needs " + unmet + ", which did not succeed";
      s = Finish(step, s, 0);
    } else {
      s = RunStep(step, index, total);
    }
    std::lock_guard<std::mutex> lock(summaries_mu_);
    summaries_.push_back(s);
  }
  if (!not_run.empty()) {
    c_.reporter->Notice("interrupted: finally step(s) " + not_run + " not run; `runbook resume " +
                        run_id_ + "` continues the run and runs them");
  }
}

int Run::ExitCode() const {
  if (interrupted_) return kExitInterrupted;
  if (!StoreLost().empty()) return kExitRefused;
  bool failed = false, blocked = false;
  for (const StepSummary& s : summaries_) {
    switch (s.outcome) {
      case StepOutcomeKind::kFailure:
      case StepOutcomeKind::kTimedOut:
        failed = true;
        break;
      case StepOutcomeKind::kBlocked:
        blocked = true;
        break;
      case StepOutcomeKind::kInterrupted:
        if (!refused_) return kExitInterrupted;
        break;
      default:
        break;
    }
  }
  if (failed) return kExitStepFailed;
  if (blocked) return kExitBlocked;
  if (refused_) return kExitRefused;
  return kExitOk;
}

ExecResult Run::Execute() {
  ExecResult result;
  Diagnostics graph_diags;
  auto graph = BuildGraph(rb_, &graph_diags);
  if (!graph.ok()) {
    c_.reporter->Notice(graph.message());
    result.exit_code = kExitInvalid;
    return result;
  }
  selected_ = SelectedSteps(rb_, *graph, options_.selection);
  const int prepared = Prepare();
  if (prepared >= 0) {
    result.exit_code = prepared;
    return result;
  }
  result.run_id = run_id_;
  result.run_dir = run_dir_;
  c_.reporter->RunStarted(rb_.name, run_id_,
                          static_cast<int>(rb_.steps.size() + rb_.finally.size()), DryRun::kNo);
  ReportSelection(*graph);
  summaries_.resize(rb_.steps.size());
  for (size_t i = 0; i < rb_.steps.size(); ++i) {
    summaries_[i] = {rb_.steps[i].id, StepOutcomeKind::kNotRun, 0, 0, ""};
  }
  Schedule(*graph);
  interrupted_ = services_.cancel.requested();
  // Every step thread has ended: from here a second Ctrl-C is what stops the finally steps that
  // still run after the first.
  if (interrupted_) services_.cancel = CancelToken(options_.interrupt_again);
  RunFinally();
  pg_pool_.reset();  // before the tunnels the kept connections may go through
  services_.pg_pool = nullptr;
  target_locks_.reset();
  host_locks_.reset();
  if (remote_) remote_->CloseAll();
  result.exit_code = ExitCode();
  const bool stopped = result.exit_code == kExitInterrupted || !StoreLost().empty();
  const RunOutcome outcome = result.exit_code == kExitOk        ? RunOutcome::kSuccess
                             : stopped                          ? RunOutcome::kInterrupted
                             : result.exit_code == kExitBlocked ? RunOutcome::kBlocked
                                                                : RunOutcome::kFailure;
  (void)journal_->Append(RunFinishedRecord(outcome, result.exit_code));
  if (const std::string lost = StoreLost(); !lost.empty()) {
    // What finished meanwhile is durable in the local journal, the spool; the store may be back
    // already (a dropped connection), and an operator on another machine reads the store only.
    const std::string copied = CopySpool();
    c_.reporter->Notice(
        "the state store went away (" + lost + "): no new step was started; " +
        (copied.empty() ? "the store is back and has the whole run now"
                        : "what ran is kept in " + journal_->path() + " (" + copied +
                              ") and `runbook resume " + run_id_ +
                              "` copies it to the store and continues once the store is back"));
  }
  result.steps = summaries_;
  result.downtime = window_;
  c_.reporter->RunFinished(summaries_, result.exit_code);
  return result;
}

}  // namespace

ExecResult ExecuteRun(const LoadedRunbook& loaded, const ExecOptions& options,
                      const Collaborators& collaborators) {
  Run run(loaded, options, collaborators);
  return run.Execute();
}

}  // namespace runbook
