#include "engine/target_lock.h"

#include <pwd.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <thread>

#include "engine/fnv.h"
#include "engine/pg.h"
#include "engine/pg_conninfo.h"
#include "engine/resolve.h"
#include "engine/step_kind.h"
#include "engine/template.h"

namespace runbook {
namespace {

// The maintenance database every PostgreSQL cluster has; locks live there (see the header).
constexpr const char* kMaintenanceDb = "postgres";

// Collects the database names a step's kinds and templates use, and the hosts its kind names.
class UseCollector final : public KindCheck {
 public:
  UseCollector(const Runbook& rb, std::set<std::string>* used, std::set<std::string>* hosts)
      : rb_(rb), used_(used), hosts_(hosts) {}
  void SetStep(const Step* step) { step_ = step; }

  using KindCheck::Statement;
  using KindCheck::Template;
  const Runbook& runbook() const override { return rb_; }
  const Step& step() const override { return *step_; }
  void Template(const Text& text) override {
    if (!text.HasTemplate()) return;
    Diagnostics ignored;  // the validator reports broken expressions
    for (const TemplateRef& ref : CollectRefs(text, &ignored)) {
      if (ref.kind == TemplateRef::Kind::kDatabase) used_->insert(std::string(ref.name));
    }
  }
  void CommandLine(const Command& command, std::string_view) override {
    for (const Text& word : command.words) Template(word);
  }
  void Statement(const Text& text, std::string_view) override { Template(text); }
  void Sql(const Text& query) override { Template(query); }
  void Database(const NameRef& db) override { used_->insert(db.name); }
  void Host(const NameRef& host) override { hosts_->insert(host.name); }
  void RunsAfter(const Step&, const Location&, std::string) override {}
  void Error(const Location&, std::string) override {}

 private:
  const Runbook& rb_;
  std::set<std::string>* used_;
  std::set<std::string>* hosts_;
  const Step* step_ = nullptr;
};

// Walks the steps, finally steps and their guards.
void CollectUses(const Runbook& rb, std::set<std::string>* databases,
                 std::set<std::string>* hosts) {
  UseCollector collect(rb, databases, hosts);
  for (const auto* steps : {&rb.steps, &rb.finally}) {
    for (const Step& s : *steps) {
      collect.SetStep(&s);
      hosts->insert(StepHost(s, rb));
      for (const auto& text : {s.if_expr, s.user, s.cwd, s.confirm}) collect.Template(text);
      for (const auto& [name, value] : s.env) collect.Template(value);
      s.kind->Check(collect);
      for (const auto* guards : {&s.guards, &s.done_when, &s.verify}) {
        for (const Guard& g : *guards) g.kind->Check(collect);
      }
    }
  }
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Connections to the same server through the same conninfo are one server: no second attempt.
std::string TargetKey(const DbTarget& t) {
  return FormatConninfo(t.conninfo, /*mask_password=*/false) + '\0' + t.password;
}

}  // namespace

std::vector<std::string> UsedDatabases(const Runbook& rb) {
  std::set<std::string> used, hosts;
  CollectUses(rb, &used, &hosts);
  std::vector<std::string> out;
  for (const runbook::Database& db : rb.databases) {
    if (used.count(db.name)) out.push_back(db.name);
  }
  return out;
}

std::vector<const Host*> UsedSshHosts(const Runbook& rb) {
  std::set<std::string> databases, used;
  CollectUses(rb, &databases, &used);
  std::vector<const Host*> out;
  for (const runbook::Host& h : rb.hosts) {
    if (!h.local && used.count(h.name)) out.push_back(&h);
  }
  return out;
}

int64_t AdvisoryLockKey(const std::string& lock_name) {
  Fnv1a64 h;
  h.Update("runbook:");
  h.Update(lock_name);
  return static_cast<int64_t>(h.Value());
}

std::string LockApplicationName(const std::string& run_id, int pid, const std::string& os_user,
                                const std::string& host) {
  // The server keeps 63 bytes: what is cut is the end of the host name.
  return (RunApplicationPrefix(run_id) + " lock " + std::to_string(pid) + " " + os_user + "@" +
          host)
      .substr(0, 63);
}

std::string OsUserName() {
  if (struct passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  return "uid " + std::to_string(geteuid());
}

std::string TargetLockHolder::Describe() const {
  // "runbook/<run id> lock <pid> <user>@<host>"
  const std::vector<std::string> w = Split(application_name);
  std::string out;
  std::string details;
  const std::string prefix = "runbook/";
  if (w.size() >= 4 && w[0].rfind(prefix, 0) == 0 && w[1] == "lock") {
    out = w[3];
    details = "pid " + w[2] + ", run " + w[0].substr(prefix.size());
  } else {
    out = application_name.empty() ? "a session without application_name"
                                   : "application '" + application_name + "'";
    details = "backend pid " + std::to_string(backend_pid);
  }
  if (!backend_start.empty()) details += ", since " + backend_start;
  if (!db_user.empty()) details += ", role " + db_user;
  if (!client_addr.empty()) details += " from " + client_addr;
  return out + " (" + details + ")";
}

TargetLocks::TargetLocks(std::vector<std::unique_ptr<PgConnection>> conns,
                         std::vector<std::string> databases)
    : conns_(std::move(conns)), databases_(std::move(databases)) {}

TargetLocks::~TargetLocks() = default;

namespace {

// The pids of `pids` still present on the server.
Result<std::set<int>> StillThere(PgConnection& conn, const std::set<int>& pids) {
  std::string list;
  for (int pid : pids) list += (list.empty() ? "" : ",") + std::to_string(pid);
  Result<PgResult> r = conn.ExecOne(
      "SELECT pid FROM pg_stat_activity WHERE pid = ANY(string_to_array($1, ',')::int[])", {list});
  if (!r.ok()) return Result<std::set<int>>::Error(r.message());
  std::set<int> there;
  for (const PgRow& row : r->rows) there.insert(std::stoi(row[0].value_or("0")));
  return there;
}

constexpr const char* kCancel = "SELECT pg_cancel_backend($1::int)";
constexpr const char* kTerminate = "SELECT pg_terminate_backend($1::int)";

// Runs `signal` (kCancel or kTerminate) for each of `pids`, then waits up to `grace` for them to
// go; returns those still there.
Result<std::set<int>> Signal(PgConnection& conn, const char* signal, std::set<int> pids,
                             std::chrono::milliseconds grace) {
  for (int pid : pids) {
    Result<PgResult> r = conn.ExecOne(signal, {std::to_string(pid)});
    if (!r.ok()) return Result<std::set<int>>::Error(r.message());
  }
  const auto until = std::chrono::steady_clock::now() + grace;
  for (;;) {
    Result<std::set<int>> there = StillThere(conn, pids);
    if (!there.ok() || there->empty() || std::chrono::steady_clock::now() >= until) return there;
    pids = std::move(there).value();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Result<std::vector<LeftoverSession>> TargetLocks::EndSessionsOfRun(
    const std::string& run_id, std::chrono::milliseconds grace) {
  using R = Result<std::vector<LeftoverSession>>;
  const std::string prefix = RunApplicationPrefix(run_id) + "/";
  std::vector<LeftoverSession> found;
  for (size_t i = 0; i < conns_.size(); ++i) {
    PgConnection& conn = *conns_[i];
    Result<PgResult> r = conn.ExecOne(
        "SELECT pid, application_name, coalesce(state, '') FROM pg_stat_activity "
        "WHERE pid <> pg_backend_pid() AND starts_with(application_name, $1)",
        {prefix});
    if (!r.ok()) {
      return R::Error("cannot look for sessions of run " + run_id + " on the server of database " +
                      databases_[i] + ": " + r.message());
    }
    if (r->rows.empty()) continue;
    std::set<int> pids;
    const size_t first = found.size();
    for (const PgRow& row : r->rows) {
      LeftoverSession s;
      s.database = databases_[i];
      s.backend_pid = std::stoi(row[0].value_or("0"));
      s.step = row[1].value_or("").substr(prefix.size());
      s.state = row[2].value_or("");
      pids.insert(s.backend_pid);
      found.push_back(std::move(s));
    }
    Result<std::set<int>> left = Signal(conn, kCancel, pids, grace);
    if (left.ok() && !left->empty()) left = Signal(conn, kTerminate, *left, grace);
    if (!left.ok()) {
      return R::Error("cannot end the sessions of run " + run_id + " on the server of database " +
                      databases_[i] + ": " + left.message());
    }
    for (size_t k = first; k < found.size(); ++k)
      found[k].ended = !left->count(found[k].backend_pid);
  }
  return found;
}

Result<std::optional<TargetLockHolder>> FindAdvisoryLockHolder(PgConnection& conn, int64_t key) {
  using R = Result<std::optional<TargetLockHolder>>;
  const uint64_t k = static_cast<uint64_t>(key);
  // A bigint advisory lock shows in pg_locks as classid (high half), objid (low half), objsubid 1.
  Result<PgResult> r = conn.ExecOne(
      "SELECT l.pid, coalesce(a.application_name, ''), coalesce(a.usename, ''), "
      "coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
      "''), coalesce(host(a.client_addr), '') "
      "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
      "AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      {std::to_string(k >> 32), std::to_string(k & 0xffffffffu)});
  if (!r.ok()) return R::Error(r.message());
  if (r->rows.empty()) return std::optional<TargetLockHolder>();
  const PgRow& row = r->rows.front();
  TargetLockHolder h;
  h.backend_pid = std::atoi(row[0].value_or("0").c_str());
  h.application_name = row[1].value_or("");
  h.db_user = row[2].value_or("");
  h.backend_start = row[3].value_or("");
  h.client_addr = row[4].value_or("");
  return std::optional<TargetLockHolder>(std::move(h));
}

Result<AdvisoryLockTry> TryAdvisoryLock(PgConnection& conn, int64_t key) {
  using R = Result<AdvisoryLockTry>;
  // A holder can end between our attempt and our look at pg_locks: then try again.
  for (int attempt = 0;; ++attempt) {
    Result<PgResult> r =
        conn.ExecOne("SELECT pg_try_advisory_lock($1::bigint)", {std::to_string(key)});
    if (!r.ok()) return R::Error(r.message());
    if (!r->rows.empty() && r->rows[0][0] == std::optional<std::string>("t")) {
      return AdvisoryLockTry{true, std::nullopt};
    }
    auto holder = FindAdvisoryLockHolder(conn, key);
    if (!holder.ok()) return R::Error("cannot tell who holds it: " + holder.message());
    if (*holder || attempt >= 3) {
      return AdvisoryLockTry{false, holder->value_or(TargetLockHolder{})};
    }
  }
}

std::optional<TargetLockHolder> ProbeTargetLock(const std::string& lock_name,
                                                const DbTarget& target,
                                                const std::string& application_name) {
  auto conn = PgConnection::Connect(target, application_name, kMaintenanceDb);
  if (!conn.ok()) return std::nullopt;
  auto holder = FindAdvisoryLockHolder(**conn, AdvisoryLockKey(lock_name));
  if (!holder.ok() || !*holder) return std::nullopt;
  TargetLockHolder h = **holder;
  h.database = target.name;
  return h;
}

Result<TargetLockAttempt> AcquireTargetLocks(const std::string& lock_name,
                                             const std::vector<DbTarget>& targets,
                                             const std::string& application_name) {
  using R = Result<TargetLockAttempt>;
  const int64_t key = AdvisoryLockKey(lock_name);
  std::vector<std::unique_ptr<PgConnection>> held;
  std::vector<std::string> held_through;  // the database each of `held` reached its server by
  std::vector<std::string> unreachable;
  std::set<std::string> done;
  for (const DbTarget& target : targets) {
    if (!done.insert(TargetKey(target)).second) continue;
    auto conn = PgConnection::Connect(target, application_name, kMaintenanceDb);
    if (!conn.ok()) {
      unreachable.push_back(conn.message());
      continue;
    }
    auto tried = TryAdvisoryLock(**conn, key);
    if (!tried.ok()) {
      return R::Error("cannot lock the server of database " + target.name + ": " + tried.message());
    }
    if (tried->taken) {
      held.push_back(std::move(conn).value());
      held_through.push_back(target.name);
      continue;
    }
    // Ours: this server was locked through another database or route.
    if (tried->holder->application_name == (*conn)->application_name()) continue;
    TargetLockHolder h = *tried->holder;
    h.database = target.name;
    return TargetLockAttempt(TargetLocksBusy{std::move(h)});
  }
  auto locks = std::make_unique<TargetLocks>(std::move(held), std::move(held_through));
  locks->unreachable = std::move(unreachable);
  return TargetLockAttempt(std::move(locks));
}

}  // namespace runbook
