#include "cli/runbook_main.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/completion.h"
#include "cli/plan_text.h"
#include "cli/prune.h"
#include "cli/run_queries.h"
#include "cli/run_report.h"
#include "cli/state_store.h"
#include "cli/terminal_reporter.h"
#include "engine/downtime.h"
#include "engine/executor.h"
#include "engine/graph.h"
#include "engine/graph_export.h"
#include "engine/group_watchdog.h"
#include "engine/journal.h"
#include "engine/loader.h"
#include "engine/parse.h"
#include "engine/pg_store.h"
#include "engine/plan.h"
#include "engine/printable.h"
#include "engine/process_table.h"
#include "engine/read_file.h"
#include "engine/run_state.h"
#include "engine/saved_plan.h"
#include "engine/secrets.h"
#include "engine/state_dir.h"
#include "engine/step_selection.h"
#include "engine/suggest.h"
#include "engine/units.h"
#include "steps/registry.h"

namespace runbook {

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<bool> g_interrupted_again{false};

// The first Ctrl-C stops the steps; a second one also the finally steps that restore service.
void OnSignal(int) {
  if (g_interrupted.exchange(true)) g_interrupted_again.store(true);
}

// The terminal is gone (a dropped ssh session, a closed window): the run goes on detached. Its
// standard streams are pointed at /dev/null, so output goes only to the run's logs, a question
// finds no terminal (a `confirm:` stops the run resumably, exit 4), and the engine keeps its lock
// and its steps, so no second copy can start (docs/DECISIONS.md, Issue 15). Only
// async-signal-safe calls here.
void OnHangup(int) {
  const int saved = errno;
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) close(fd);
  }
  errno = saved;
}

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = OnHangup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
  // A closed terminal or pipe must not kill the engine mid-journal.
  signal(SIGPIPE, SIG_IGN);
}

std::vector<std::pair<std::string, std::string>> ParseSets(const std::vector<std::string>& raw,
                                                           bool* ok) {
  std::vector<std::pair<std::string, std::string>> sets;
  for (const std::string& s : raw) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "runbook: --set %s: expected NAME=VALUE\n", s.c_str());
      *ok = false;
      continue;
    }
    sets.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  return sets;
}

// Loads and validates; prints every diagnostic. nullopt means exit 2.
std::optional<LoadedRunbook> Load(const std::string& file, LoadOptions options) {
  options.kinds = &BuiltinKinds();
  Diagnostics diags;
  auto loaded = LoadRunbook(file, options, &diags);
  if (!loaded) {
    for (const Diagnostic& d : diags.errors()) std::fprintf(stderr, "%s\n", d.ToString().c_str());
    std::fprintf(stderr, "%zu error%s in %s\n", diags.errors().size(),
                 diags.errors().size() == 1 ? "" : "s", file.c_str());
  }
  return loaded;
}

// The store the last of `inventories` that has `state: {url:}` names ("" when none does), for
// the commands that load no runbook; nullopt (errors printed) when an inventory does not read.
std::optional<std::string> InventoryStateUrl(const std::vector<std::string>& inventories) {
  std::string url;
  for (const std::string& path : inventories) {
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) {
      std::fprintf(stderr, "runbook: %s: %s\n", path.c_str(), text.message().c_str());
      return std::nullopt;
    }
    Diagnostics diags;
    std::optional<Inventory> inv = ParseInventory(path, *text, &diags);
    if (!inv) {
      for (const Diagnostic& d : diags.errors()) std::fprintf(stderr, "%s\n", d.ToString().c_str());
      return std::nullopt;
    }
    if (!inv->state_url.empty()) url = inv->state_url;
  }
  return url;
}

// The journal keeps paths absolute: a resume from another directory must find the same files.
std::vector<std::string> AbsolutePaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(p, ec);
    out.push_back(ec ? p : abs.lexically_normal().string());
  }
  return out;
}

struct Common {
  std::vector<std::string> inventories;
  std::vector<std::string> sets;
};

// --only A,B (repeatable), --from STEP, --rerun A,B (repeatable), as given.
struct SelectionArgs {
  std::vector<std::string> only, rerun;
  std::string from;
  StepSelection Selection() const {
    StepSelection s;
    for (const std::string& list : only) {
      for (std::string& id : SplitStepIds(list)) s.only.push_back(std::move(id));
    }
    s.from = from;
    for (const std::string& list : rerun) {
      for (std::string& id : SplitStepIds(list)) s.rerun.push_back(std::move(id));
    }
    return s;
  }
};

// --rerun continues a run: refused (exit 2, said) without --resume.
bool RerunAllowed(const StepSelection& selection, bool resume) {
  if (selection.rerun.empty() || resume) return true;
  std::fprintf(stderr,
               "runbook: --rerun runs again a step that finished in the run being continued: "
               "use it with `resume` or `run --resume` (a new run runs every step; --only "
               "chooses some)\n");
  return false;
}

// The steps it names must be steps of the runbook: else exit 2 with the nearest id suggested.
bool SelectionValid(const LoadedRunbook& loaded, const StepSelection& selection) {
  Status st = CheckSelection(loaded.runbook, selection);
  if (!st.ok()) std::fprintf(stderr, "runbook: %s\n", st.message().c_str());
  return st.ok();
}

// What a resume runs with: the run's inventories unless -i is given (then those, absolute), the
// run's --set values followed by those given (later wins).
void ResumeInputs(const RunState& run, const std::vector<std::string>& inventories,
                  const std::vector<std::pair<std::string, std::string>>& sets,
                  LoadOptions* options) {
  options->inventories = inventories.empty() ? run.inventories : AbsolutePaths(inventories);
  options->sets = run.sets;
  options->sets.insert(options->sets.end(), sets.begin(), sets.end());
}

int CmdValidate(const std::vector<std::string>& files, const Common& common) {
  int rc = kExitOk;
  for (const std::string& f : files) {
    LoadOptions options;
    options.inventories = common.inventories;
    options.require_params = RequireParams::kNo;
    auto loaded = Load(f, options);
    if (!loaded) {
      rc = kExitInvalid;
      continue;
    }
    std::printf("%s: ok (%zu steps, %zu finally)\n", f.c_str(), loaded->runbook.steps.size(),
                loaded->runbook.finally.size());
    for (const std::string& w : ShortSecretWarnings(loaded->runbook)) {
      std::fprintf(stderr, "%s\n", w.c_str());
    }
  }
  return rc;
}

// Writes `text` to `path`; false when it cannot be written completely.
bool WriteFile(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && written;
}

// What `plan` prints and saves; `resume`/`fresh` plan what `run --resume`/`--fresh` would do.
struct PlanArgs {
  std::string format = "text";
  std::string out_path;
  bool offline = false;
  bool resume = false;
  bool fresh = false;
  std::string state_url;  // --state
  SelectionArgs selection;
};

int CmdPlan(const std::string& file, const Common& common, const PlanArgs& args) {
  const std::string& format = args.format;
  const std::string& out_path = args.out_path;
  const StepSelection selection = args.selection.Selection();
  if (!RerunAllowed(selection, args.resume)) return kExitInvalid;
  bool ok = true;
  LoadOptions options;
  options.inventories = common.inventories;
  options.sets = ParseSets(common.sets, &ok);
  if (!ok) return kExitInvalid;
  auto loaded = Load(file, options);
  if (!loaded) return kExitInvalid;
  if (!SelectionValid(*loaded, selection)) return kExitInvalid;
  PlanOptions plan_options;
  plan_options.state_dir = StateDir();
  plan_options.offline = args.offline;
  plan_options.selection = selection;
  plan_options.resume = args.resume;
  plan_options.fresh = args.fresh;
  plan_options.inventories = options.inventories;
  plan_options.sets = options.sets;
  // Expected durations from the team's history when there is a store, and its lock and unfinished
  // runs; a store that cannot be read leaves them to this machine's runs, said on stderr: a
  // preview must not fail for it.
  if (const std::string url = StoreUrl(args.state_url, loaded->runbook.state_url); !url.empty()) {
    auto store = PgStore::Open(url, /*create=*/false);
    if (store.ok()) plan_options.store = std::move(store).value();
    auto earlier = store.ok() ? EarlierRunsInStore(plan_options.store, loaded->runbook.name)
                              : Result<EarlierRuns>::Error(store.message());
    if (earlier.ok()) {
      plan_options.earlier = std::move(earlier).value();
    } else {
      std::fprintf(stderr, "runbook: %s; expected durations from the state directory\n",
                   earlier.message().c_str());
    }
  }
  auto processes = MakeSystemProcessRunner();
  auto plan = BuildPlan(*loaded, plan_options, processes.get());
  if (!plan.ok()) {
    std::fprintf(stderr, "%s\n", plan.message().c_str());
    return kExitInvalid;
  }
  const std::string json = PlanToJson(*plan).dump(2) + "\n";
  if (!out_path.empty() && !WriteFile(out_path, json)) {
    std::fprintf(stderr, "runbook: cannot write %s\n", out_path.c_str());
    return kExitInvalid;
  }
  const std::string shown = format == "json" ? json : PlanToText(*plan, DetectTerminal(1).color);
  std::fwrite(shown.data(), 1, shown.size(), stdout);
  if (format != "json" && !out_path.empty()) std::printf("plan saved to %s\n", out_path.c_str());
  switch (plan->verdict) {
    case PlanVerdict::kStart:
      return kExitOk;
    case PlanVerdict::kBlocked:
      return kExitBlocked;
    case PlanVerdict::kRefused:
      return kExitRefused;
  }
  return kExitOk;
}

struct RunArgs {
  SelectionArgs selection;
  bool dry_run = false;
  bool yes = false;
  int jobs = 1;
  std::string plan_path;
  bool resume = false;
  bool fresh = false;
  std::string heartbeat = "30s";
  std::string state_url;  // --state
  std::string report;     // --report FILE
};

// Runs; then, when `report` names a file, writes the run's HTML report there (also after a
// failure: that is when it is read).
int Execute(const LoadedRunbook& loaded, ExecOptions exec, const std::string& heartbeat,
            const std::string& report = "") {
  TerminalOptions terminal = DetectTerminal(exec.jobs);
  auto every = ParseDuration(heartbeat);
  if (!every.ok()) {
    std::fprintf(stderr, "runbook: --heartbeat: %s\n", every.message().c_str());
    return kExitInvalid;
  }
  terminal.heartbeat = *every;
  exec.interrupt = &g_interrupted;
  exec.interrupt_again = &g_interrupted_again;
  // Before any step runs: a step must not outlive a killed engine.
  if (Status st = StartGroupWatchdog(); !st.ok()) {
    std::fprintf(stderr, "runbook: %s\n", st.message().c_str());
    return kExitRefused;
  }
  auto processes = MakeSystemProcessRunner();
  TerminalReporter reporter(terminal);
  TerminalPrompter prompter(&reporter);
  InstallSignalHandlers();
  ExecResult r = ExecuteRun(loaded, exec, {processes.get(), &reporter, &prompter});
  if (r.downtime) std::printf("downtime: %s\n", DowntimeText(*r.downtime).c_str());
  if (!report.empty() && !r.run_id.empty()) {
    if (WriteRunReport(exec.state_dir, r.run_id, report)) {
      std::printf("report written to %s\n", report.c_str());
    }
  }
  if (!r.run_id.empty() && r.exit_code != kExitOk) {
    std::fprintf(stderr, "run %s: logs in %s/logs; `runbook resume %s` continues it\n",
                 r.run_id.c_str(), r.run_dir.c_str(), r.run_id.c_str());
  }
  return r.exit_code;
}

int CmdRun(const std::string& file, const Common& common, const RunArgs& args) {
  if (args.resume && args.fresh) {
    std::fprintf(stderr, "runbook: --resume and --fresh exclude each other\n");
    return kExitInvalid;
  }
  if (args.jobs < 1) {
    std::fprintf(stderr, "runbook: --jobs must be at least 1\n");
    return kExitInvalid;
  }
  StepSelection selection = args.selection.Selection();
  if (!RerunAllowed(selection, args.resume)) return kExitInvalid;
  if (args.dry_run) {
    // The preview of exactly this command: its selection too.
    PlanArgs plan;
    plan.resume = args.resume;
    plan.fresh = args.fresh;
    plan.selection = args.selection;
    return CmdPlan(file, common, plan);
  }
  bool ok = true;
  LoadOptions options;
  options.inventories = common.inventories;
  options.sets = ParseSets(common.sets, &ok);
  if (!ok) return kExitInvalid;

  if (!args.plan_path.empty()) {
    // Run exactly the saved plan: same file, params, inventories; refuse on any difference.
    Result<std::string> text = ReadFile(args.plan_path);
    if (!text.ok()) {
      std::fprintf(stderr, "runbook: %s: %s\n", args.plan_path.c_str(), text.message().c_str());
      return kExitInvalid;
    }
    const nlohmann::json saved = nlohmann::json::parse(*text, nullptr, false);
    if (saved.is_discarded()) {
      std::fprintf(stderr, "runbook: %s is not a plan file (not JSON)\n", args.plan_path.c_str());
      return kExitInvalid;
    }
    if (Status checked = CheckSavedPlan(saved); !checked.ok()) {
      std::fprintf(stderr, "runbook: %s is not a plan file: %s\n", args.plan_path.c_str(),
                   checked.message().c_str());
      return kExitInvalid;
    }
    if (common.inventories.empty() && common.sets.empty()) {
      options.inventories = saved.value("inventories", std::vector<std::string>{});
      options.sets = saved.value("sets", std::vector<std::pair<std::string, std::string>>{});
    }
    // The steps the plan chose, unless chosen here (then a difference refuses, as any other).
    if (selection.empty()) selection = SavedSelection(saved);
    if (!RerunAllowed(selection, args.resume)) return kExitInvalid;
    auto loaded = Load(file, options);
    if (!loaded) return kExitInvalid;
    if (!SelectionValid(*loaded, selection)) return kExitInvalid;
    PlanOptions plan_options;
    plan_options.state_dir = StateDir();
    plan_options.selection = selection;
    plan_options.inventories = options.inventories;
    plan_options.sets = options.sets;
    auto processes = MakeSystemProcessRunner();
    auto plan = BuildPlan(*loaded, plan_options, processes.get());
    if (!plan.ok()) {
      std::fprintf(stderr, "%s\n", plan.message().c_str());
      return kExitInvalid;
    }
    const nlohmann::json now = PlanToJson(*plan);
    std::vector<std::string> diffs = ComparePlans(saved, now);
    PrintGuardObservations(saved, now);
    if (!diffs.empty()) {
      std::fprintf(stderr, "runbook: refusing to run %s: it no longer matches the plan %s:\n",
                   file.c_str(), args.plan_path.c_str());
      for (const std::string& d : diffs) std::fprintf(stderr, "  - %s\n", d.c_str());
      return kExitRefused;
    }
    ExecOptions exec;
    exec.state_dir = StateDir();
    exec.store_url = StoreUrl(args.state_url, loaded->runbook.state_url);
    exec.jobs = args.jobs;
    exec.yes = args.yes;
    exec.inventories = AbsolutePaths(options.inventories);
    exec.sets = options.sets;
    exec.start = args.fresh ? StartMode::kFresh : StartMode::kNew;
    exec.selection = selection;
    return Execute(*loaded, exec, args.heartbeat, args.report);
  }

  if (args.resume) {
    // The run it continues keeps its inventories and --set values, as with `resume`.
    std::optional<std::string> name = RunbookNameOf(file);
    if (!name) return kExitInvalid;
    if (std::optional<RunInfo> latest = LatestRun(StateDir(), *name)) {
      auto contents = ReadJournal(latest->journal);
      if (!contents.ok()) {
        std::fprintf(stderr, "runbook: run %s: %s\n", latest->run_id.c_str(),
                     contents.message().c_str());
        return kExitRefused;
      }
      const auto given_sets = options.sets;
      ResumeInputs(ReplayJournal(contents->records), common.inventories, given_sets, &options);
    }
  }
  auto loaded = Load(file, options);
  if (!loaded) return kExitInvalid;
  if (!SelectionValid(*loaded, selection)) return kExitInvalid;
  ExecOptions exec;
  exec.state_dir = StateDir();
  exec.store_url = StoreUrl(args.state_url, loaded->runbook.state_url);
  exec.jobs = args.jobs;
  exec.yes = args.yes;
  exec.inventories = AbsolutePaths(options.inventories);
  exec.sets = options.sets;
  exec.start = args.resume ? StartMode::kResume : args.fresh ? StartMode::kFresh : StartMode::kNew;
  exec.selection = selection;
  return Execute(*loaded, exec, args.heartbeat, args.report);
}

// A run another operator started on another machine, found in the state store: the newest run
// of the runbook `name` when it did not succeed, or the run `run_id`, when this state directory
// lacks it. It is copied here (journal and logs) to be resumed. nullopt: nothing to take from the
// store (`*rc` stays -1), or an error (printed, `*rc` set).
std::optional<RunInfo> RunOfStore(const std::string& url, const std::string& state,
                                  const std::string& name, const std::string& run_id, bool yes,
                                  int* rc) {
  *rc = -1;
  auto store = PgStore::Open(url, /*create=*/false);
  if (!store.ok()) {
    std::fprintf(stderr, "runbook: %s\n", store.message().c_str());
    *rc = kExitRefused;
    return std::nullopt;
  }
  auto found = name.empty() ? (*store)->FindRun(run_id) : (*store)->LatestRun(name);
  if (!found.ok()) {
    std::fprintf(stderr, "runbook: %s\n", found.message().c_str());
    *rc = kExitRefused;
    return std::nullopt;
  }
  if (!*found || (*found)->outcome == "success" || FindRun(state, (*found)->run_id)) {
    return std::nullopt;
  }
  const std::string id = (*found)->run_id;
  auto records = (*store)->Records(id);
  if (!records.ok()) {
    std::fprintf(stderr, "runbook: %s\n", records.message().c_str());
    *rc = kExitRefused;
    return std::nullopt;
  }
  const RunState rs = ReplayJournal(*records);
  // Without its last word the run may still be going on elsewhere. The store sees whether that
  // engine's lock connection is open; one that let go of it may still finish its running step:
  // the operator says it is gone.
  if (!rs.finished && EngineLivenessOf(rs.pid, rs.host, rs.boot_id) == EngineLiveness::kElsewhere) {
    auto connected = (*store)->EngineConnected(id);
    if (!connected.ok()) {
      std::fprintf(stderr, "runbook: %s\n", connected.message().c_str());
      *rc = kExitRefused;
      return std::nullopt;
    }
    if (*connected) {
      std::fprintf(stderr,
                   "runbook: run %s is going on: its engine (pid %d on %s) is connected to the "
                   "state store; `runbook status --follow %s` follows it\n",
                   id.c_str(), rs.pid, Printable(rs.host).c_str(), id.c_str());
      *rc = kExitRefused;
      return std::nullopt;
    }
    if (!yes) {
      std::fprintf(stderr,
                   "runbook: run %s has not ended; its engine (pid %d on %s) is no longer "
                   "connected to the state store: it died, or lost the store and starts no new "
                   "step. Once that engine is gone, `runbook resume %s --yes` takes the run over\n",
                   id.c_str(), rs.pid, Printable(rs.host).c_str(), id.c_str());
      *rc = kExitRefused;
      return std::nullopt;
    }
  }
  auto fetched = FetchRun(**store, state, id);
  if (!fetched.ok()) {
    std::fprintf(stderr, "runbook: %s\n", fetched.message().c_str());
    *rc = kExitRefused;
    return std::nullopt;
  }
  std::printf("run %s of %s, started by pid %d on %s, copied from the state store\n", id.c_str(),
              Printable(rs.runbook).c_str(), rs.pid, Printable(rs.host).c_str());
  return *fetched;
}

struct ResumeArgs {
  bool yes = false;
  int jobs = 1;
  std::string heartbeat = "30s";
  std::string report;
  SelectionArgs selection;
};

int CmdResume(const std::string& target, const Common& common, const ResumeArgs& args,
              const std::string& state_flag) {
  const std::string state = StateDir();
  // Runs of other machines are looked for in the store named by --state or RUNBOOK_STATE_URL
  // (an inventory's store is known only once the run's journal is read).
  const std::string store_url = StoreUrl(state_flag);
  const bool file_target = !target.empty() && std::filesystem::is_regular_file(target);
  std::optional<RunInfo> run;
  if (!store_url.empty() && !target.empty()) {
    std::string name;
    if (file_target) {
      std::optional<std::string> named = RunbookNameOf(target);
      if (!named) return kExitInvalid;
      name = *named;
    }
    int rc = -1;
    run = RunOfStore(store_url, state, name, file_target ? "" : target, args.yes, &rc);
    if (rc != -1) return rc;
  }
  if (run) {
    // Taken from the store: resumed below with the runbook file on this machine.
  } else if (target.empty() || file_target) {
    std::string name;  // every runbook's runs when no file is named
    if (!target.empty()) {
      std::optional<std::string> named = RunbookNameOf(target);
      if (!named) return kExitInvalid;
      name = *named;
    }
    auto unfinished = UnfinishedRuns(state, name);
    if (!unfinished.ok()) {
      std::fprintf(stderr, "runbook: %s\n", unfinished.message().c_str());
      return kExitRefused;
    }
    if (unfinished->empty()) {
      std::fprintf(stderr, "runbook: no unfinished run to resume%s\n",
                   target.empty() ? "" : (" for " + target).c_str());
      return kExitRefused;
    }
    // Without a run named, acting on one of several would be a guess: list them instead.
    if (unfinished->size() > 1) {
      std::fprintf(stderr,
                   "runbook: %zu unfinished runs; resume one by its id (`runbook resume RUN_ID`):\n"
                   "  %-22s %-20s %-25s %s\n",
                   unfinished->size(), "RUN ID", "RUNBOOK", "STARTED", "LAST STEP");
      for (const ResumableRun& r : *unfinished) {
        std::fprintf(stderr, "  %-22s %-20s %-25s %s\n", r.info.run_id.c_str(), r.info.name.c_str(),
                     r.state.started_at.c_str(), r.last_step.c_str());
      }
      return kExitRefused;
    }
    run = unfinished->front().info;
  } else {
    run = FindRun(state, target);
    if (!run) {
      std::fprintf(stderr, "runbook: no run or runbook file '%s' (state dir %s)\n", target.c_str(),
                   state.c_str());
      return kExitRefused;
    }
  }
  auto contents = ReadJournal(run->journal);
  if (!contents.ok()) {
    std::fprintf(stderr, "runbook: run %s: %s\n", run->run_id.c_str(), contents.message().c_str());
    return kExitRefused;
  }
  RunState rs = ReplayJournal(contents->records);
  // A FILE named is the runbook as it is on this machine (the run may have started on another,
  // where the file had another path); definition changes are reported as for any resume.
  const std::string file = file_target ? std::filesystem::absolute(target).string() : rs.path;
  if (!std::filesystem::is_regular_file(file)) {
    std::fprintf(stderr,
                 "runbook: run %s: its runbook %s is not on this machine; `runbook resume FILE` "
                 "with the runbook here resumes it\n",
                 run->run_id.c_str(), Printable(file).c_str());
    return kExitInvalid;
  }
  bool ok = true;
  const auto sets = ParseSets(common.sets, &ok);
  if (!ok) return kExitInvalid;
  LoadOptions options;
  ResumeInputs(rs, common.inventories, sets, &options);
  // A run started on another machine names that machine's inventory paths.
  for (const std::string& inventory : options.inventories) {
    if (common.inventories.empty() && !std::filesystem::exists(inventory)) {
      std::fprintf(stderr,
                   "runbook: run %s was started with the inventory %s, which is not on this "
                   "machine; `runbook resume %s -i FILE` gives the inventories here (each -i)\n",
                   run->run_id.c_str(), Printable(inventory).c_str(), run->run_id.c_str());
      return kExitInvalid;
    }
  }
  auto loaded = Load(file, options);
  if (!loaded) return kExitInvalid;
  const StepSelection selection = args.selection.Selection();
  if (!SelectionValid(*loaded, selection)) return kExitInvalid;
  ExecOptions exec;
  exec.state_dir = state;
  exec.store_url = StoreUrl(state_flag, loaded->runbook.state_url);
  exec.start = StartMode::kResume;
  exec.resume_run_id = run->run_id;
  exec.jobs = args.jobs;
  exec.yes = args.yes;
  exec.inventories = options.inventories;
  exec.sets = options.sets;
  exec.selection = selection;
  return Execute(*loaded, exec, args.heartbeat, args.report);
}

int CmdGraph(const std::string& file, const std::string& format) {
  LoadOptions options;
  options.require_params = RequireParams::kNo;
  auto loaded = Load(file, options);
  if (!loaded) return kExitInvalid;
  Diagnostics graph_diags;
  auto graph = BuildGraph(loaded->runbook, &graph_diags);
  if (!graph.ok()) {
    std::fprintf(stderr, "%s\n", graph.message().c_str());
    return kExitInvalid;
  }
  std::fputs((format == "mermaid" ? GraphToMermaid(loaded->runbook, *graph)
                                  : GraphToDot(loaded->runbook, *graph))
                 .c_str(),
             stdout);
  return kExitOk;
}

// The exit codes, as docs/format.md lists them, at the end of --help.
constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0    success (plan: the run would start)\n"
    "  1    a step failed or timed out\n"
    "  2    invalid runbook, inventory, plan file or usage\n"
    "  3    a guard blocked the run (plan: would block it)\n"
    "  4    refused to start: lock held, unfinished run, confirmation declined, runbook changed\n"
    "       since --plan, nothing or several runs to resume, unreadable journal\n"
    "  130  interrupted (Ctrl-C, SIGTERM)\n"
    "\n"
    "Reference: docs/format.md (installed under /usr/share/doc/runbook).";

// `runbook statsu`: CLI11 would say only that it did not expect the word; name the nearest
// command instead. Only the first argument can be a command.
int RefuseUnknownCommand(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return kExitOk;
  std::vector<std::string> names;
  for (const CLI::App* sub :
       app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
    names.push_back(sub->get_name());
  }
  const std::string given = argv[1];
  if (given == "__complete" || std::find(names.begin(), names.end(), given) != names.end()) {
    return kExitOk;
  }
  std::fprintf(stderr, "runbook: unknown command '%s'%s\nCommands: ", given.c_str(),
               DidYouMean(given, names).c_str());
  for (size_t i = 0; i < names.size(); ++i) {
    std::fprintf(stderr, "%s%s", i ? ", " : "", names[i].c_str());
  }
  std::fputs("\n", stderr);
  return kExitInvalid;
}

}  // namespace

int RunbookMain(int argc, char** argv) {
  CLI::App app{"runbook: declarative runbooks with guards, dry runs, checkpoints and resume"};
  app.require_subcommand(1);
  app.footer(kExitCodesHelp);
  app.set_version_flag("--version", "runbook " RUNBOOK_VERSION);
  Common common;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("-i,--inventory", common.inventories,
                    "Inventory file (repeatable, later wins)");
  };
  auto add_sets = [&](CLI::App* sub) {
    sub->add_option("--set", common.sets, "Set a param: NAME=VALUE (repeatable)");
  };

  std::vector<std::string> validate_files;
  auto* validate =
      app.add_subcommand("validate", "Check runbooks; errors as FILE:LINE:COL: message");
  validate->add_option("FILE", validate_files, "Runbook files")->required();
  add_common(validate);

  std::string plan_file;
  PlanArgs plan_args;
  auto* plan = app.add_subcommand("plan", "Preview a run exactly; changes nothing");
  plan->add_option("FILE", plan_file, "Runbook file")->required();
  add_common(plan);
  add_sets(plan);
  plan->add_option("--format", plan_args.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  plan->add_option("--out", plan_args.out_path, "Save the plan for `run --plan`");
  plan->add_flag("--offline", plan_args.offline, "Evaluate no guard and check no host or database");
  auto* plan_resume =
      plan->add_flag("--resume", plan_args.resume, "Plan what `run --resume` would do");
  plan->add_flag("--fresh", plan_args.fresh, "Plan a new run, as `run --fresh` would start")
      ->excludes(plan_resume);

  std::string run_file;
  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run a runbook");
  run->add_option("FILE", run_file, "Runbook file")->required();
  add_common(run);
  add_sets(run);
  run->add_flag("--dry-run", run_args.dry_run, "Preview only (same as plan)");
  run->add_flag("--yes", run_args.yes, "Confirm confirmations, manual steps and reruns");
  run->add_option("--jobs", run_args.jobs, "Independent steps run at most N at once");
  run->add_option("--plan", run_args.plan_path, "Run exactly this saved plan");
  run->add_flag("--resume", run_args.resume, "Continue the unfinished run of this runbook");
  run->add_flag("--fresh", run_args.fresh, "Start a new run even if one is unfinished");
  const char* heartbeat_help =
      "Output not to a terminal: a line for a step silent this long (default 30s, 0s: never)";
  run->add_option("--heartbeat", run_args.heartbeat, heartbeat_help);
  const char* report_help =
      "At the end, also after a failure, write the run's HTML report (runbook report) to FILE";
  run->add_option("--report", run_args.report, report_help);
  auto add_selection = [](CLI::App* sub, SelectionArgs* selection) {
    auto* only = sub->add_option("--only", selection->only,
                                 "Run only these steps: STEP[,STEP...] (guards still apply)");
    sub->add_option("--from", selection->from,
                    "Run from this step on, in the plan's order; the steps before it do not run")
        ->excludes(only);
    sub->add_option("--rerun", selection->rerun,
                    "Run these finished steps again: STEP[,STEP...] (resume, or with --resume)");
  };
  add_selection(run, &run_args.selection);
  add_selection(plan, &plan_args.selection);

  std::string resume_target;
  ResumeArgs resume_args;
  auto* resume = app.add_subcommand("resume", "Continue an unfinished run");
  resume->add_option(
      "TARGET", resume_target,
      "RUN_ID or runbook FILE (default: the one unfinished run; several are listed, not resumed)");
  resume->add_option("-i,--inventory", common.inventories,
                     "Inventory file instead of the run's (repeatable, later wins)");
  resume->add_option("--set", common.sets,
                     "Set a param: NAME=VALUE, after the run's own --set (repeatable)");
  resume->add_flag("--yes", resume_args.yes, "Confirm confirmations, manual steps and reruns");
  resume->add_option("--jobs", resume_args.jobs, "Independent steps run at most N at once");
  resume->add_option("--heartbeat", resume_args.heartbeat, heartbeat_help);
  resume->add_option("--report", resume_args.report, report_help);
  add_selection(resume, &resume_args.selection);

  std::string status_target, status_format = "text";
  auto* status = app.add_subcommand("status", "Show a run's steps and outcomes");
  status->add_option("TARGET", status_target, "RUN_ID or runbook FILE (default: the latest run)");
  auto* status_json = status->add_option("--format", status_format, "text or json")
                          ->check(CLI::IsMember({"text", "json"}));
  bool status_follow = false, logs_follow = false;
  const char* follow_help =
      "Then follow the run until it ends (its log lines and steps) and exit with its exit code; "
      "Ctrl-C stops following, not the run";
  status->add_flag("--follow,-f", status_follow, follow_help)->excludes(status_json);

  std::string history_file, history_format = "text";
  auto* history = app.add_subcommand("history", "List runs");
  history->add_option("FILE", history_file, "Only runs of this runbook");
  history->add_option("--format", history_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));

  std::string logs_run, logs_step;
  auto* logs = app.add_subcommand("logs", "Print a run's step logs");
  logs->add_option("RUN_ID", logs_run, "Run id")->required();
  logs->add_option("STEP", logs_step, "Only this step");
  logs->add_flag("--follow,-f", logs_follow,
                 "Print the logs, then new lines as they come until the run ends; exit with its "
                 "exit code (Ctrl-C stops following, not the run)");

  std::string report_run, report_out;
  auto* report = app.add_subcommand("report", "Write a run's report: one self-contained HTML file");
  report->add_option("RUN_ID", report_run, "Run id")->required();
  report->add_option("-o,--output", report_out,
                     "The file to write (default RUN_ID.html; -: stdout)");

  // The team's state store (docs/team.md): --state URL, else RUNBOOK_STATE_URL, else the
  // `state: {url:}` of an inventory.
  std::string state_url;
  const char* state_help =
      "The team's state store (a PostgreSQL URL; default $RUNBOOK_STATE_URL, then an "
      "inventory's state: {url:})";
  for (CLI::App* sub : {status, history, logs, resume, report}) {
    sub->add_option("--state", state_url, state_help);
  }
  plan->add_option("--state", plan_args.state_url, state_help);
  for (CLI::App* sub : {status, history, logs, report}) {
    sub->add_option("-i,--inventory", common.inventories,
                    "Inventory file whose state: {url:} names the store (repeatable, later wins)");
  }
  run->add_option("--state", run_args.state_url, state_help);
  auto* state = app.add_subcommand("state", "Set up the team's state store in PostgreSQL");
  state->require_subcommand(1);
  bool print_sql = false;
  auto* state_init = state->add_subcommand("init", "Create the store's schema 'runbook'");
  state_init->add_option("--state", state_url, state_help);
  add_common(state_init);
  state_init->add_flag("--print-sql", print_sql, "Only print the SQL (for a DBA to run)");
  std::string import_dir;
  auto* state_import =
      state->add_subcommand("import", "Copy the runs of a state directory into the store");
  state_import->add_option("DIR", import_dir, "State directory (e.g. ~/.local/state/runbook)")
      ->required();
  state_import->add_option("--state", state_url, state_help);
  add_common(state_import);

  std::string prune_older;
  bool prune_dry_run = false;
  auto* prune = app.add_subcommand("prune", "Remove finished runs; never one a resume may need");
  prune->add_option("--older-than", prune_older, "Only runs started longer ago (e.g. 30d)")
      ->required();
  prune->add_flag("--dry-run", prune_dry_run, "List what would be removed; remove nothing");

  std::string completion_shell;
  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->add_option("SHELL", completion_shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));

  std::string complete_what, complete_file;
  auto* complete = app.add_subcommand("__complete", "");
  complete->group("");  // hidden: the completion scripts call it
  complete->add_option("WHAT", complete_what)->required();
  complete->add_option("FILE", complete_file);

  std::string graph_file, graph_format = "dot";
  auto* graph = app.add_subcommand("graph", "Print the dependency graph");
  graph->add_option("FILE", graph_file, "Runbook file")->required();
  graph->add_option("--format", graph_format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}));

  if (int rc = RefuseUnknownCommand(app, argc, argv); rc != kExitOk) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInvalid;
  }

  if (*validate) return CmdValidate(validate_files, common);
  if (*plan) return CmdPlan(plan_file, common, plan_args);
  if (*run) return CmdRun(run_file, common, run_args);
  if (*resume) return CmdResume(resume_target, common, resume_args, state_url);
  if (*status || *history || *logs || *state_init || *state_import || *report) {
    // These load no runbook: an inventory given names only the store.
    std::optional<std::string> inventory_url = InventoryStateUrl(common.inventories);
    if (!inventory_url) return kExitInvalid;
    const std::string url = StoreUrl(state_url, *inventory_url);
    if (*status) return CmdStatus(status_target, status_format == "json", url, status_follow);
    if (*history) return CmdHistory(history_file, history_format == "json", url);
    if (*logs) return CmdLogs(logs_run, logs_step, url, logs_follow);
    if (*state_init) return CmdStateInit(url, print_sql);
    if (*report) return CmdReport(report_run, report_out, url);
    return CmdStateImport(url, import_dir);
  }
  if (*graph) return CmdGraph(graph_file, graph_format);
  if (*prune) {
    Result<Duration> older = ParseDuration(prune_older);
    if (!older.ok()) {
      std::fprintf(stderr, "runbook: --older-than: %s\n", older.message().c_str());
      return kExitInvalid;
    }
    return CmdPrune(*older, prune_dry_run);
  }
  if (*completion) {
    std::fputs(CompletionScript(app, completion_shell).c_str(), stdout);
    return kExitOk;
  }
  if (*complete) return CmdCompleteIds(complete_what, complete_file);
  return kExitInvalid;
}

}  // namespace runbook
