#include "engine/pg_store.h"

#include <cstdlib>

#include "engine/journal.h"
#include "engine/pg.h"
#include "engine/run_state.h"
#include "engine/target_lock.h"

namespace runbook {
namespace {

// Log pieces: small enough for one round trip each, large enough that a long log is few rows.
constexpr size_t kLogChunkBytes = 64 * 1024;

// Times travel as epoch milliseconds and are formatted here: to_char on every row of a long
// history costs the server more than the rest of the query.
std::string MsColumn(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000)::bigint";
}

// What `history` lists of each run, for a store of schema `version`.
std::string SelectRuns(int version) {
  const std::string columns = "run_id, runbook, " + MsColumn("started") + ", " + MsColumn("ended") +
                              ", coalesce(outcome, ''), steps_done, steps, ";
  // Version 1 has no columns for who started a run: reading its records instead would take
  // a probe per run (seconds for 10,000 runs), for a store the next run upgrades anyway.
  if (version < 2) return "SELECT " + columns + "NULL, NULL, NULL FROM runbook.runs";
  return "SELECT " + columns + "started_user, started_host, selection::text FROM runbook.runs";
}

std::string TimeOf(const std::optional<std::string>& ms) {
  if (!ms) return "";
  return FormatTimestamp(std::chrono::system_clock::time_point(
      std::chrono::milliseconds(std::strtoll(ms->c_str(), nullptr, 10))));
}

StoredRun RunOf(const PgRow& row) {
  StoredRun r;
  r.run_id = row[0].value_or("");
  r.runbook = row[1].value_or("");
  r.started = TimeOf(row[2]);
  r.ended = TimeOf(row[3]);
  r.outcome = row[4].value_or("");
  r.steps_done = std::atoi(row[5].value_or("0").c_str());
  r.steps = std::atoi(row[6].value_or("0").c_str());
  r.user = row[7].value_or("");
  r.host = row[8].value_or("");
  if (row[9] && *row[9] != "{}") {  // most runs chose no steps: no JSON to parse
    r.selection = SelectionOf(nlohmann::json::parse(*row[9], nullptr, false));
  }
  return r;
}

std::vector<StoredRun> RunsOf(const PgResult& res) {
  std::vector<StoredRun> runs;
  runs.reserve(res.rows.size());
  for (const PgRow& row : res.rows) runs.push_back(RunOf(row));
  return runs;
}

// Logs are bytes (a step may print anything): they travel as hex, a bind value never mangled.
std::string ToHex(std::string_view bytes) {
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex += "0123456789abcdef"[c >> 4];
    hex += "0123456789abcdef"[c & 15];
  }
  return hex;
}

std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  }
  return bytes;
}

// The run lock's key: apart from the target locks' (engine/target_lock.h), which a store kept in
// a target server's maintenance database would otherwise share.
int64_t RunLockKey(const std::string& lock_name) {
  return AdvisoryLockKey("store/" + lock_name);
}

std::string StoreError(const std::string& what, const std::string& message) {
  return "state store: " + what + ": " + message;
}

// Held while the schema is created or upgraded: two engines meeting an empty or older store must
// not race (the SQL for a DBA takes it too).
constexpr const char* kSchemaLock = "7243312566052416941";

// The version runbook.meta records; nullopt when the database has no schema 'runbook'.
Result<std::optional<int>> SchemaVersion(PgConnection& c) {
  using R = Result<std::optional<int>>;
  Result<PgResult> exists = c.ExecOne("SELECT to_regclass('runbook.meta') IS NOT NULL");
  if (!exists.ok()) return R::Error(exists.message());
  if (exists->rows.empty() || exists->rows[0][0] != std::optional<std::string>("t")) {
    return std::optional<int>();
  }
  Result<PgResult> r = c.ExecOne("SELECT value FROM runbook.meta WHERE key = 'schema_version'");
  if (!r.ok()) return R::Error(r.message());
  if (r->rows.empty() || !r->rows[0][0]) return std::optional<int>();
  return std::optional<int>(std::atoi(r->rows[0][0]->c_str()));
}

// Records `version`, never over a newer one.
std::string SetVersionSql(int version) {
  return "INSERT INTO runbook.meta AS m (key, value) VALUES ('schema_version', '" +
         std::to_string(version) +
         "')\n  ON CONFLICT (key) DO UPDATE SET value = excluded.value\n"
         "  WHERE m.value::integer < excluded.value::integer;\n";
}

// Creates the schema, or upgrades it from the version it has, to kStoreSchemaVersion: the
// migrations it lacks and the new version in one transaction, under kSchemaLock.
Status Migrate(PgConnection& c) {
  auto fail = [&](const std::string& message) {
    (void)c.Exec("ROLLBACK");
    return Status::Error(message);
  };
  if (auto r = c.Exec(std::string("BEGIN; SELECT pg_advisory_xact_lock(") + kSchemaLock + ")");
      !r.ok()) {
    return fail(r.message());
  }
  // Read again under the lock: another engine may have done it meanwhile.
  auto v = SchemaVersion(c);
  if (!v.ok()) return fail(v.message());
  const int from = v->value_or(0);
  for (int version = from + 1; version <= kStoreSchemaVersion; ++version) {
    if (auto r = c.Exec(StoreMigrations()[version - 1]); !r.ok()) return fail(r.message());
  }
  if (from < kStoreSchemaVersion) {
    if (auto r = c.Exec(SetVersionSql(kStoreSchemaVersion)); !r.ok()) return fail(r.message());
  }
  if (auto r = c.Exec("COMMIT"); !r.ok()) return fail(r.message());
  return Status::Ok();
}

// The run's started_user, started_host and selection: who started it and which steps were chosen,
// from its run_started record.
std::vector<std::string> StartedColumns(const RunState& rs) {
  if (rs.sessions.empty()) return {"", "", "{}"};
  const Session& started = rs.sessions.front();
  return {started.user, started.host, SelectionJson(started.selection).dump()};
}

}  // namespace

const std::vector<std::string>& StoreMigrations() {
  static const std::vector<std::string> migrations = {
      // 1: runs, their records and step logs.
      R"(CREATE SCHEMA IF NOT EXISTS runbook;
CREATE TABLE IF NOT EXISTS runbook.meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE IF NOT EXISTS runbook.runs (
  run_id text PRIMARY KEY,
  runbook text NOT NULL,
  started timestamptz NOT NULL,
  ended timestamptz,
  outcome text,
  steps_done integer NOT NULL DEFAULT 0,
  steps integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runbook.runs (started, run_id);
CREATE INDEX IF NOT EXISTS runs_by_runbook ON runbook.runs (runbook, started, run_id);
CREATE TABLE IF NOT EXISTS runbook.records (
  run_id text NOT NULL REFERENCES runbook.runs ON DELETE CASCADE,
  seq bigint NOT NULL,
  record json NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS runbook.log_chunks (
  run_id text NOT NULL REFERENCES runbook.runs ON DELETE CASCADE,
  step text NOT NULL,
  chunk integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (run_id, step, chunk)
);
)",
      // 2: who started each run and which steps were chosen (SelectionJson's form), filled for
      // the runs already there from their first record, run_started (a run filled before is
      // left as it is).
      R"(ALTER TABLE runbook.runs ADD COLUMN IF NOT EXISTS started_user text NOT NULL DEFAULT '';
ALTER TABLE runbook.runs ADD COLUMN IF NOT EXISTS started_host text NOT NULL DEFAULT '';
ALTER TABLE runbook.runs ADD COLUMN IF NOT EXISTS selection jsonb NOT NULL DEFAULT '{}';
UPDATE runbook.runs SET started_user = coalesce(first.j->>'user', ''),
  started_host = coalesce(first.j->>'host', ''),
  selection = jsonb_strip_nulls(jsonb_build_object('only', first.j->'only',
    'from', first.j->'from', 'rerun', first.j->'rerun'))
FROM runbook.runs r JOIN LATERAL (
  SELECT rec.record::jsonb AS j FROM runbook.records rec WHERE rec.run_id = r.run_id
  ORDER BY rec.seq LIMIT 1) first ON first.j->>'type' = 'run_started'
WHERE r.run_id = runs.run_id AND runs.started_user = '' AND runs.started_host = '';
)",
  };
  return migrations;
}

std::string StoreSchemaSql() {
  const std::string version = std::to_string(kStoreSchemaVersion);
  std::string sql = "-- The state store of runbook, schema version " + version +
                    R"(: creates the schema 'runbook', or upgrades
-- it from an older version, in one transaction. Applying it again changes nothing.
BEGIN;
DO $$
BEGIN
  PERFORM pg_advisory_xact_lock()" +
                    kSchemaLock + R"();
  IF to_regclass('runbook.meta') IS NOT NULL THEN
    IF (SELECT value::integer FROM runbook.meta WHERE key = 'schema_version') > )" +
                    version + R"( THEN
      RAISE EXCEPTION 'the schema runbook is newer than version )" +
                    version + R"(: use the SQL of a newer runbook';
    END IF;
  END IF;
END
$$;
)";
  for (size_t i = 0; i < StoreMigrations().size(); ++i) {
    sql += "-- version " + std::to_string(i + 1) + "\n" + StoreMigrations()[i];
  }
  return sql + SetVersionSql(kStoreSchemaVersion) + "COMMIT;\n";
}

std::string StoreUrl(const std::string& flag, const std::string& inventory) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("RUNBOOK_STATE_URL"); env && *env) return env;
  return inventory;
}

PgStore::PgStore(std::unique_ptr<PgConnection> conn, int version)
    : conn_(std::move(conn)), version_(version) {}
PgStore::~PgStore() = default;

Result<std::unique_ptr<PgStore>> PgStore::Open(const std::string& url, bool create,
                                               const std::string& application_name) {
  using R = Result<std::unique_ptr<PgStore>>;
  Result<Conninfo> conninfo = ParseConninfo(url);
  if (!conninfo.ok()) return R::Error("state store: " + conninfo.message());
  DbTarget target{"(the state store)", std::move(conninfo).value(), "", ""};
  auto conn = PgConnection::Connect(target, application_name);
  if (!conn.ok()) return R::Error(conn.message());
  PgConnection& c = **conn;
  auto v = SchemaVersion(c);
  if (!v.ok()) return R::Error(StoreError("cannot read its schema version", v.message()));
  if (!*v && !create) {
    return R::Error(
        "state store: no schema 'runbook' in this database: `runbook state init` creates it");
  }
  // A writer brings an older schema to this version; a reader reads it as it is.
  if (create && v->value_or(0) < kStoreSchemaVersion) {
    if (Status st = Migrate(c); !st.ok()) {
      return R::Error(
          StoreError((*v ? "cannot upgrade the schema 'runbook' from version " +
                               std::to_string(**v) + " to " + std::to_string(kStoreSchemaVersion)
                         : std::string("cannot create the schema 'runbook'")) +
                         " (its owner runs `runbook state init`, or a DBA applies "
                         "`runbook state init --print-sql`)",
                     st.message()));
    }
    v = SchemaVersion(c);
    if (!v.ok() || !*v) return R::Error("state store: the schema 'runbook' was not created");
  }
  if (**v > kStoreSchemaVersion) {
    return R::Error("state store: its schema is version " + std::to_string(**v) +
                    ", newer than this runbook knows (" + std::to_string(kStoreSchemaVersion) +
                    "): use a newer runbook");
  }
  return std::unique_ptr<PgStore>(new PgStore(std::move(conn).value(), **v));
}

Result<std::vector<StoredRun>> PgStore::ListRuns(const std::string& runbook) {
  using R = Result<std::vector<StoredRun>>;
  Result<PgResult> r =
      runbook.empty()
          ? conn_->ExecOne(SelectRuns(version_) + " ORDER BY started, run_id")
          : conn_->ExecOne(SelectRuns(version_) + " WHERE runbook = $1 ORDER BY started, run_id",
                           {runbook});
  if (!r.ok()) return R::Error(StoreError("cannot list runs", r.message()));
  return RunsOf(*r);
}

Result<std::optional<StoredRun>> PgStore::FindRun(const std::string& run_id) {
  using R = Result<std::optional<StoredRun>>;
  Result<PgResult> r = conn_->ExecOne(SelectRuns(version_) + " WHERE run_id = $1", {run_id});
  if (!r.ok()) return R::Error(StoreError("cannot read run " + run_id, r.message()));
  if (r->rows.empty()) return std::optional<StoredRun>();
  return std::optional<StoredRun>(RunOf(r->rows[0]));
}

Result<std::optional<StoredRun>> PgStore::LatestRun(const std::string& runbook) {
  using R = Result<std::optional<StoredRun>>;
  const std::string where = runbook.empty() ? "" : " WHERE runbook = $1";
  Result<PgResult> r = conn_->ExecOne(
      SelectRuns(version_) + where + " ORDER BY started DESC, run_id DESC LIMIT 1",
      runbook.empty() ? std::vector<std::string>{} : std::vector<std::string>{runbook});
  if (!r.ok()) return R::Error(StoreError("cannot find the latest run", r.message()));
  if (r->rows.empty()) return std::optional<StoredRun>();
  return std::optional<StoredRun>(RunOf(r->rows[0]));
}

Result<std::optional<RunState>> PgStore::UnfinishedRun(const std::string& runbook) {
  using R = Result<std::optional<RunState>>;
  auto latest = LatestRun(runbook);
  if (!latest.ok()) return R::Error(latest.message());
  if (!*latest || (*latest)->outcome == "success") return std::optional<RunState>();
  auto records = Records((*latest)->run_id);
  if (!records.ok()) return R::Error(records.message());
  return std::optional<RunState>(ReplayJournal(*records));
}

Result<std::vector<nlohmann::json>> PgStore::Records(const std::string& run_id) {
  return RecordsAfter(run_id, 0);
}

Result<std::vector<std::string>> PgStore::LogSteps(const std::string& run_id) {
  using R = Result<std::vector<std::string>>;
  Result<PgResult> r = conn_->ExecOne(
      "SELECT DISTINCT step FROM runbook.log_chunks WHERE run_id = $1 ORDER BY step", {run_id});
  if (!r.ok()) return R::Error(StoreError("cannot read the logs of run " + run_id, r.message()));
  std::vector<std::string> steps;
  for (const PgRow& row : r->rows) steps.push_back(row[0].value_or(""));
  return steps;
}

Result<std::string> PgStore::Log(const std::string& run_id, const std::string& step) {
  Result<PgResult> r = conn_->ExecOne(
      "SELECT encode(data, 'hex') FROM runbook.log_chunks WHERE run_id = $1 AND step = $2 "
      "ORDER BY chunk",
      {run_id, step});
  if (!r.ok()) {
    return Result<std::string>::Error(
        StoreError("cannot read the log of step " + step + " of run " + run_id, r.message()));
  }
  std::string log;
  for (const PgRow& row : r->rows) log += FromHex(row[0].value_or(""));
  return log;
}

Result<std::optional<TargetLockHolder>> PgStore::TakeRunLock(const std::string& lock_name) {
  using R = Result<std::optional<TargetLockHolder>>;
  auto tried = TryAdvisoryLock(*conn_, RunLockKey(lock_name));
  if (!tried.ok())
    return R::Error(StoreError("cannot take the lock '" + lock_name + "'", tried.message()));
  if (tried->taken || tried->holder->application_name == conn_->application_name()) {
    return std::optional<TargetLockHolder>();
  }
  return tried->holder;
}

Result<std::optional<TargetLockHolder>> PgStore::RunLockHolder(const std::string& lock_name) {
  using R = Result<std::optional<TargetLockHolder>>;
  auto holder = FindAdvisoryLockHolder(*conn_, RunLockKey(lock_name));
  if (!holder.ok()) {
    return R::Error(
        StoreError("cannot tell who holds the lock '" + lock_name + "'", holder.message()));
  }
  return holder;
}

Result<bool> PgStore::EngineConnected(const std::string& run_id) {
  Result<PgResult> r = conn_->ExecOne(
      "SELECT count(*) FROM pg_stat_activity WHERE starts_with(application_name, $1)",
      {RunApplicationPrefix(run_id) + " lock "});
  if (!r.ok() || r->rows.empty()) {
    return Result<bool>::Error(
        StoreError("cannot tell whether the engine of run " + run_id + " is connected",
                   r.ok() ? "no answer" : r.message()));
  }
  return r->rows[0][0].value_or("0") != "0";
}

Status PgStore::StartRun(const nlohmann::json& run_started) {
  const RunState rs = ReplayJournal({run_started});
  std::vector<std::string> params = {
      rs.run_id,
      rs.runbook,
      rs.started_at,
      std::to_string(rs.step_ids.size()),
      std::to_string(run_started.value("seq", int64_t{0})),
      run_started.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  for (std::string& column : StartedColumns(rs)) params.push_back(std::move(column));
  Result<PgResult> r = conn_->ExecOne(
      "WITH run AS (INSERT INTO runbook.runs (run_id, runbook, started, steps, started_user, "
      "started_host, selection) VALUES ($1, $2, $3::timestamptz, $4::integer, $7, $8, "
      "$9::jsonb) RETURNING run_id) "
      "INSERT INTO runbook.records (run_id, seq, record) SELECT run_id, $5::bigint, $6::json "
      "FROM run",
      params);
  if (!r.ok()) return Status::Error(StoreError("cannot record run " + rs.run_id, r.message()));
  return Status::Ok();
}

Status PgStore::AddRecord(const std::string& run_id, const nlohmann::json& record, int steps_done,
                          const std::string& outcome, const std::string& ended) {
  Result<PgResult> r = conn_->ExecOne(
      "WITH rec AS (INSERT INTO runbook.records (run_id, seq, record) "
      "VALUES ($1, $2::bigint, $3::json)) "
      "UPDATE runbook.runs SET steps_done = $4::integer, outcome = nullif($5, ''), "
      "ended = nullif($6, '')::timestamptz WHERE run_id = $1",
      {run_id, std::to_string(record.value("seq", int64_t{0})),
       record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
       std::to_string(steps_done), outcome, ended});
  if (!r.ok()) {
    return Status::Error(StoreError("cannot record the journal of run " + run_id, r.message()));
  }
  return Status::Ok();
}

Status PgStore::AppendLog(const std::string& run_id, const std::string& step, std::string_view text,
                          LogExtent* at) {
  auto fail = [&](const std::string& message) {
    (void)conn_->Exec("ROLLBACK");
    return Status::Error(StoreError("cannot record the log of step " + step, message));
  };
  // A piece written while the step runs is one chunk: one statement, its own transaction.
  const bool several = text.size() > kLogChunkBytes;
  if (several) {
    if (auto r = conn_->Exec("BEGIN"); !r.ok()) return fail(r.message());
  }
  int chunk = at->chunks;
  for (size_t off = 0; off < text.size(); off += kLogChunkBytes, ++chunk) {
    Result<PgResult> r = conn_->ExecOne(
        "INSERT INTO runbook.log_chunks (run_id, step, chunk, data) VALUES ($1, $2, "
        "$3::integer, decode($4, 'hex'))",
        {run_id, step, std::to_string(chunk), ToHex(text.substr(off, kLogChunkBytes))});
    if (!r.ok()) return fail(r.message());
  }
  if (several) {
    if (auto r = conn_->Exec("COMMIT"); !r.ok()) return fail(r.message());
  }
  at->bytes += static_cast<int64_t>(text.size());
  at->chunks = chunk;
  return Status::Ok();
}

Result<PgStore::LogExtent> PgStore::StoredLog(const std::string& run_id, const std::string& step) {
  Result<PgResult> r = conn_->ExecOne(
      "SELECT coalesce(sum(octet_length(data)), 0), coalesce(max(chunk) + 1, 0) "
      "FROM runbook.log_chunks WHERE run_id = $1 AND step = $2",
      {run_id, step});
  if (!r.ok() || r->rows.empty()) {
    return Result<LogExtent>::Error(
        StoreError("cannot read the log of step " + step + " of run " + run_id,
                   r.ok() ? "no answer" : r.message()));
  }
  LogExtent e;
  e.bytes = std::strtoll(r->rows[0][0].value_or("0").c_str(), nullptr, 10);
  e.chunks = std::atoi(r->rows[0][1].value_or("0").c_str());
  return e;
}

Result<std::vector<nlohmann::json>> PgStore::RecordsAfter(const std::string& run_id,
                                                          int64_t after_seq) {
  using R = Result<std::vector<nlohmann::json>>;
  Result<PgResult> r = conn_->ExecOne(
      "SELECT record FROM runbook.records WHERE run_id = $1 AND seq > $2::bigint ORDER BY seq",
      {run_id, std::to_string(after_seq)});
  if (!r.ok()) return R::Error(StoreError("cannot read run " + run_id, r.message()));
  std::vector<nlohmann::json> records;
  records.reserve(r->rows.size());
  for (const PgRow& row : r->rows) {
    nlohmann::json j = nlohmann::json::parse(row[0].value_or(""), nullptr, false);
    if (!j.is_object()) return R::Error("state store: run " + run_id + " has a damaged record");
    records.push_back(std::move(j));
  }
  return records;
}

Result<std::vector<PgStore::LogPiece>> PgStore::LogPiecesAfter(
    const std::string& run_id, const std::map<std::string, int>& seen) {
  using R = Result<std::vector<LogPiece>>;
  // What was seen travels as one JSON bind value: {"step": last chunk seen, ...}.
  nlohmann::json last = nlohmann::json::object();
  for (const auto& [step, chunk] : seen) last[step] = chunk;
  Result<PgResult> r = conn_->ExecOne(
      "SELECT step, chunk, encode(data, 'hex') FROM runbook.log_chunks WHERE run_id = $1 "
      "AND chunk > coalesce(($2::jsonb ->> step)::integer, -1) ORDER BY step, chunk",
      {run_id, last.dump()});
  if (!r.ok()) return R::Error(StoreError("cannot read the logs of run " + run_id, r.message()));
  std::vector<LogPiece> pieces;
  pieces.reserve(r->rows.size());
  for (const PgRow& row : r->rows) {
    LogPiece& p = pieces.emplace_back();
    p.step = row[0].value_or("");
    p.chunk = std::atoi(row[1].value_or("0").c_str());
    p.data = FromHex(row[2].value_or(""));
  }
  return pieces;
}

Result<std::optional<int64_t>> PgStore::LastSeq(const std::string& run_id) {
  using R = Result<std::optional<int64_t>>;
  Result<PgResult> r = conn_->ExecOne(
      "SELECT (SELECT coalesce(max(seq), 0) FROM runbook.records WHERE run_id = $1) "
      "FROM runbook.runs WHERE run_id = $1",
      {run_id});
  if (!r.ok()) return R::Error(StoreError("cannot read run " + run_id, r.message()));
  if (r->rows.empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(std::strtoll(r->rows[0][0].value_or("0").c_str(), nullptr, 10));
}

Result<bool> PgStore::ImportRun(const std::vector<nlohmann::json>& records,
                                const std::vector<std::pair<std::string, std::string>>& logs) {
  using R = Result<bool>;
  const RunState rs = ReplayJournal(records);
  if (rs.run_id.empty() || rs.started_at.empty()) {
    return R::Error("the journal has no run_started record");
  }
  int done = 0;
  for (const std::string& id : rs.step_ids) {
    auto it = rs.steps.find(id);
    if (it == rs.steps.end()) continue;
    const StepStatus st = it->second.status;
    done += st == StepStatus::kSucceeded || st == StepStatus::kDone || st == StepStatus::kSkipped;
  }
  auto fail = [&](const std::string& what, const std::string& message) {
    (void)conn_->Exec("ROLLBACK");
    return R::Error(StoreError(what, message));
  };
  if (auto r = conn_->Exec("BEGIN"); !r.ok()) return fail("cannot begin", r.message());
  std::vector<std::string> params = {rs.run_id,
                                     rs.runbook,
                                     rs.started_at,
                                     rs.finished ? rs.ended_at : "",
                                     rs.finished ? rs.outcome : "",
                                     std::to_string(done),
                                     std::to_string(rs.step_ids.size())};
  for (std::string& column : StartedColumns(rs)) params.push_back(std::move(column));
  Result<PgResult> ins = conn_->ExecOne(
      "INSERT INTO runbook.runs (run_id, runbook, started, ended, outcome, steps_done, steps, "
      "started_user, started_host, selection) VALUES ($1, $2, $3::timestamptz, "
      "nullif($4, '')::timestamptz, nullif($5, ''), $6::integer, $7::integer, $8, $9, "
      "$10::jsonb) ON CONFLICT (run_id) DO NOTHING",
      params);
  if (!ins.ok()) return fail("cannot record run " + rs.run_id, ins.message());
  if (ins->command_tag == "INSERT 0 0") {
    (void)conn_->Exec("ROLLBACK");
    return false;
  }
  for (const nlohmann::json& record : records) {
    Result<PgResult> r = conn_->ExecOne(
        "INSERT INTO runbook.records (run_id, seq, record) VALUES ($1, $2::bigint, $3::json)",
        {rs.run_id, std::to_string(record.value("seq", int64_t{0})),
         record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    if (!r.ok()) return fail("cannot record the journal of run " + rs.run_id, r.message());
  }
  for (const auto& [step, text] : logs) {
    for (size_t off = 0, chunk = 0; off < text.size(); off += kLogChunkBytes, ++chunk) {
      Result<PgResult> r = conn_->ExecOne(
          "INSERT INTO runbook.log_chunks (run_id, step, chunk, data) VALUES ($1, $2, "
          "$3::integer, decode($4, 'hex'))",
          {rs.run_id, step, std::to_string(chunk), ToHex(text.substr(off, kLogChunkBytes))});
      if (!r.ok()) return fail("cannot record the log of step " + step, r.message());
    }
  }
  if (auto r = conn_->Exec("COMMIT"); !r.ok()) return fail("cannot commit", r.message());
  return true;
}

}  // namespace runbook
