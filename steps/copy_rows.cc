#include "steps/copy_rows.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <unordered_set>

#include "engine/pg.h"
#include "engine/reader.h"
#include "engine/resolve.h"
#include "engine/sql_lex.h"
#include "engine/suggest.h"
#include "engine/units.h"
#include "steps/pg_util.h"

namespace runbook {
namespace {

Result<int64_t> PositiveCount(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 1) {
    return Result<int64_t>::Error("expected a positive integer, got '" + std::string(s) + "'");
  }
  if (std::string zero = LeadingZeroProblem(s); !zero.empty()) {
    return Result<int64_t>::Error(zero);
  }
  return v;
}

// Types with OIDs below this are built in and have the same OID in every database.
constexpr int64_t kFirstNormalObjectId = 16384;

struct Column {
  std::string name;
  int64_t type_oid = 0;
  std::string type;  // format_type(): "bigint", "double precision[]", "character varying(20)"
  bool generated = false;
};

// The fields of the step after rendering.
struct RenderedFields {
  std::string table;
  std::vector<std::string> columns;
  std::optional<SqlText> where;
  std::optional<SqlText> order_by;
  std::optional<int64_t> every;
  std::optional<int64_t> limit;
};

Result<int64_t> RenderCount(const Text& text, const char* what, StepEnv& env) {
  Result<std::string> s = env.Render(text);
  if (!s.ok()) return Result<int64_t>::Error(s.message());
  Result<int64_t> n = PositiveCount(*s);
  if (!n.ok()) return Result<int64_t>::Error(std::string(what) + ": " + n.message());
  return n;
}

Result<RenderedFields> Render(const CopyRowsStep& step, StepEnv& env) {
  RenderedFields r;
  Result<std::string> table = env.Render(step.table);
  if (!table.ok()) return Result<RenderedFields>::Error(table.message());
  r.table = *table;
  for (const Text& c : step.columns) {
    Result<std::string> name = env.Render(c);
    if (!name.ok()) return Result<RenderedFields>::Error(name.message());
    r.columns.push_back(*name);
  }
  if (step.where) {
    Result<SqlText> w = env.RenderSql(*step.where);
    if (!w.ok()) return Result<RenderedFields>::Error(w.message());
    r.where = *w;
  }
  if (step.order_by) {
    Result<SqlText> o = env.RenderSql(*step.order_by);
    if (!o.ok()) return Result<RenderedFields>::Error(o.message());
    r.order_by = *o;
  }
  if (step.every) {
    Result<int64_t> n = RenderCount(*step.every, "every", env);
    if (!n.ok()) return Result<RenderedFields>::Error(n.message());
    r.every = *n;
  }
  if (step.limit) {
    Result<int64_t> n = RenderCount(*step.limit, "limit", env);
    if (!n.ok()) return Result<RenderedFields>::Error(n.message());
    r.limit = *n;
  }
  return r;
}

// COPY cannot take bind parameters: the values go in as literals quoted by libpq.
std::string InlineParams(const SqlText& sql, const PgConnection& conn) {
  std::string out;
  size_t copied = 0;
  for (const Placeholder& ph : FindPlaceholders(sql.query)) {
    out.append(sql.query, copied, ph.pos - copied);
    copied = ph.pos + ph.len;
    if (ph.number >= 1 && static_cast<size_t>(ph.number) <= sql.params.size()) {
      out += conn.QuoteLiteral(sql.params[ph.number - 1]);
    } else {
      out.append(sql.query, ph.pos, ph.len);
    }
  }
  out.append(sql.query, copied);
  return out;
}

struct TableInfo {
  std::string name;         // regclass text: schema-qualified and quoted as needed
  std::string primary_key;  // quoted key columns in key order, ", "-separated; empty: none
  std::vector<Column> columns;
  bool after_row_triggers = false;  // enabled AFTER INSERT FOR EACH ROW, foreign keys' included
  bool other_after_row_triggers = false;  // the same, besides those of RecreatableForeignKeys
  bool statement_triggers = false;        // enabled INSERT FOR EACH STATEMENT
};

// The foreign keys that `foreign_keys: after_copy` drops before the copy and adds back after it:
// the validated ones declared on the table itself. A NOT VALID one would come back unchecked and
// one inherited from a partitioned parent cannot be dropped: those stay, checked per row.
constexpr const char* kRecreatableForeignKeys =
    "c.contype = 'f' AND c.convalidated AND c.conparentid = 0";

// The target's COPY runs in statements of this many rows when that lets its after-row triggers
// (foreign key checks) run while rows are still coming, and changes nothing else: not with
// statement-level triggers, which would fire once per statement.
constexpr int64_t kRowsPerTargetStatement = 5000;

// From this `every` on, a sample by primary key finds each chosen key from the one before (one
// index descent and N keys walked) instead of numbering every key with row_number(): cheaper
// once N passes about 15 (200000 keys, warm: every 50 27 ms against 39 ms, every 20 53 against
// 70; every 10 125 against 65, every 2 600 against 87).
constexpr int64_t kSkipScanMinEvery = 20;

// The table's name, columns, primary key and triggers in one round trip (a new backend's first
// catalog reads cost the same either way; each further round trip waits for the server to be
// scheduled).
Result<TableInfo> ReadTable(PgConnection& conn, const std::string& table, const char* side) {
  const std::string where = std::string(" (") + side + " " + conn.db_name() + ")";
  Result<PgResult> r = conn.Exec(
      "SELECT t.oid::regclass::text, (SELECT string_agg(quote_ident(k.attname), ', ' ORDER BY "
      "array_position(i.indkey, k.attnum)) FROM pg_index i JOIN pg_attribute k ON k.attrelid = "
      "i.indrelid AND k.attnum = ANY(i.indkey) WHERE i.indrelid = t.oid AND i.indisprimary), "
      "a.attname, a.atttypid::int8, format_type(a.atttypid, a.atttypmod), a.attgenerated <> '', "
      // Enabled INSERT triggers (tgtype bits: 1 row, 2 before, 4 insert, 64 instead of): after-row
      // ones (foreign key checks are), statement-level ones.
      "(SELECT count(*) FILTER (WHERE g.tgtype & 71 = 5) || ' ' || count(*) FILTER (WHERE "
      "g.tgtype & 5 = 4) || ' ' || count(*) FILTER (WHERE g.tgtype & 71 = 5 AND NOT EXISTS ("
      "SELECT FROM pg_constraint c WHERE c.oid = g.tgconstraint AND " +
          std::string(kRecreatableForeignKeys) +
          ")) FROM pg_trigger g WHERE g.tgrelid = t.oid AND g.tgenabled <> 'D') "
          "FROM (SELECT $1::regclass AS oid) t LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND "
          "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {table});
  if (!r.ok()) return Result<TableInfo>::Error(r.message() + where);
  TableInfo info;
  if (r->rows.empty()) return Result<TableInfo>::Error("table " + table + " not found" + where);
  info.name = r->rows[0][0].value_or("");
  info.primary_key = r->rows[0][1].value_or("");
  long long after_row = 0, statement = 0, other_after_row = 0;
  std::sscanf(r->rows[0][6].value_or("").c_str(), "%lld %lld %lld", &after_row, &statement,
              &other_after_row);
  info.after_row_triggers = after_row > 0;
  info.statement_triggers = statement > 0;
  info.other_after_row_triggers = other_after_row > 0;
  for (const PgRow& row : r->rows) {
    if (!row[2]) continue;  // a table without columns
    info.columns.push_back({*row[2], std::atoll(row[3].value_or("0").c_str()), row[4].value_or(""),
                            row[5] == std::optional<std::string>("t")});
  }
  return info;
}

const Column* FindColumn(const TableInfo& t, const std::string& name) {
  for (const Column& c : t.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// A foreign key of the target as `foreign_keys: after_copy` drops and re-creates it.
struct ForeignKey {
  std::string name;        // quoted
  std::string definition;  // pg_get_constraintdef(): "FOREIGN KEY (a) REFERENCES t(id) ..."
  std::optional<std::string> comment;
};

struct ForeignKeys {
  std::vector<ForeignKey> keys;
  bool owner = false;  // only the table's owner may drop and add its constraints
};

Result<ForeignKeys> ReadForeignKeys(PgConnection& dst, const std::string& table) {
  Result<PgResult> r = dst.Exec(
      "SELECT pg_has_role(t.relowner, 'USAGE'), quote_ident(c.conname), "
      "pg_get_constraintdef(c.oid), obj_description(c.oid, 'pg_constraint') FROM pg_class t LEFT "
      "JOIN pg_constraint c ON c.conrelid = t.oid AND " +
          std::string(kRecreatableForeignKeys) + " WHERE t.oid = $1::regclass ORDER BY c.conname",
      {table});
  if (!r.ok()) return Result<ForeignKeys>::Error("target: " + r.message());
  ForeignKeys fks;
  for (const PgRow& row : r->rows) {
    fks.owner = row[0] == std::optional<std::string>("t");
    if (row[1]) fks.keys.push_back({*row[1], row[2].value_or(""), row[3]});
  }
  return fks;
}

// One side of the copy, ready: connected, its transaction begun, the table read.
struct Side {
  std::unique_ptr<PgConnection> conn;
  TableInfo table;
  ForeignKeys foreign_keys;  // the target's, read for `foreign_keys: after_copy`
};

// A kept connection of the run (PgPool) when there is one, else a new one.
Result<Side> OpenSide(const DbTarget& db, const std::string& app, StepEnv& env, const char* begin,
                      const std::string& table, const char* side) {
  Side s;
  const PgInterrupt interrupt{env.Cancel(), env.Deadline()};
  if (PgPool* pool = env.ConnectionPool()) s.conn = pool->Take(db, app, interrupt);
  if (!s.conn) {
    auto conn = PgConnection::Connect(db, app);
    if (!conn.ok()) return Result<Side>::Error(conn.message());
    s.conn = std::move(conn.value());
  }
  s.conn->SetNoticeSink(&env.Out());
  s.conn->SetInterrupt(interrupt);
  if (auto b = s.conn->Exec(begin); !b.ok()) {
    return Result<Side>::Error(std::string(side) + ": " + b.message());
  }
  Result<TableInfo> info = ReadTable(*s.conn, table, side);
  if (!info.ok()) return Result<Side>::Error(info.message());
  s.table = std::move(info.value());
  return s;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string KeyDataName(const std::string& column) {
  return "keys:" + column;
}

// "DROP CONSTRAINT a, DROP CONSTRAINT b" or, with their definitions, "ADD CONSTRAINT a FOREIGN
// KEY ..., ADD CONSTRAINT b ...": one ALTER TABLE for them all.
std::string AlterForeignKeys(const std::vector<ForeignKey>& keys, bool add) {
  std::string out;
  for (const ForeignKey& k : keys) {
    out += (out.empty() ? "" : ", ") +
           (add ? "ADD CONSTRAINT " + k.name + " " + k.definition : "DROP CONSTRAINT " + k.name);
  }
  return out;
}

// Adds the dropped foreign keys back: the server checks each over the whole table in one query.
Status RecreateForeignKeys(PgConnection& dst, const std::string& table,
                           const std::vector<ForeignKey>& keys) {
  const char* what = "target: checking the foreign keys after the copy: ";
  if (Result<PgResult> a = dst.Exec("ALTER TABLE " + table + " " + AlterForeignKeys(keys, true));
      !a.ok()) {
    return Status::Error(what + a.message());
  }
  for (const ForeignKey& k : keys) {
    if (!k.comment) continue;
    if (Result<PgResult> c = dst.Exec("COMMENT ON CONSTRAINT " + k.name + " ON " + table + " IS " +
                                      dst.QuoteLiteral(*k.comment));
        !c.ok()) {
      return Status::Error(what + c.message());
    }
  }
  return Status::Ok();
}

// Copies with both connections open and their transactions begun.
StepOutcome Copy(const CopyRowsStep& step, StepEnv& env, const RenderedFields& r, Side& source,
                 Side& target) {
  PgConnection& src = *source.conn;
  PgConnection& dst = *target.conn;
  const TableInfo* from = &source.table;
  const TableInfo* to = &target.table;

  std::vector<std::string> names = r.columns;
  if (names.empty()) {
    for (const Column& c : from->columns) {
      if (!c.generated) names.push_back(c.name);
    }
  }
  bool binary = true;
  std::vector<std::string> quoted;
  for (const std::string& n : names) {
    const Column* a = FindColumn(*from, n);
    const Column* b = FindColumn(*to, n);
    if (a == nullptr)
      return {false, "column " + n + " does not exist in " + from->name + " on " + step.from.name};
    if (b == nullptr)
      return {false, "column " + n + " does not exist in " + to->name + " on " + step.to.name};
    binary = binary && a->type_oid == b->type_oid && a->type_oid < kFirstNormalObjectId &&
             a->type == b->type;
    quoted.push_back(src.QuoteIdentifier(n));
  }

  // The columns later steps match on: their values are kept while they stream past.
  std::vector<std::pair<std::string, size_t>> keys;  // column, index among `names`
  for (const std::string& k : env.MatchedColumns()) {
    size_t i = 0;
    while (i < names.size() && names[i] != k) ++i;
    if (i == names.size()) {
      return {false, "a later step matches on column " + k + ", which this step does not copy"};
    }
    keys.emplace_back(k, i);
  }
  if (!keys.empty()) binary = false;  // values are read from the text format

  std::vector<std::string> filters;
  if (r.where) filters.push_back("(" + InlineParams(*r.where, src) + ")");
  if (step.match) {
    const Column* c = FindColumn(*from, step.match->column);
    if (c == nullptr) {
      return {false, "match column " + step.match->column + " does not exist in " + from->name};
    }
    std::optional<std::string> values =
        env.LoadData(step.match->step.name, KeyDataName(step.match->parent_column));
    if (!values) {
      return {false, "step " + step.match->step.name + " saved no values of column " +
                         step.match->parent_column +
                         " (it must be a copy_rows step of this run that copies that column)"};
    }
    filters.push_back(src.QuoteIdentifier(step.match->column) + " = ANY(" +
                      src.QuoteLiteral(*values) + "::" + c->type + "[])");
  }
  std::string order = r.order_by ? InlineParams(*r.order_by, src) : "";
  std::string key;  // the primary key, when `every` may number it alone (see BuildCopySelect)
  if (r.every) {
    const std::string& pk = from->primary_key;
    if (order.empty() && pk.empty()) {
      return {false, "every needs order_by: table " + r.table + " has no primary key to order by"};
    }
    if (order.empty()) order = pk;
    if (!pk.empty() && filters.empty() && OneLine(order) == pk) key = pk;
  }
  const std::string columns = Join(quoted, ", ");
  const std::string format = binary ? " WITH (FORMAT binary)" : "";
  const std::string copy_out =
      "COPY (" +
      BuildCopySelect(from->name, columns, Join(filters, " AND "), order, r.every, r.limit, key) +
      ") TO STDOUT" + format;
  const std::string copy_in = "COPY " + to->name + " (" + columns + ") FROM STDIN" + format;

  // foreign_keys: after_copy: dropped before the COPY and added back before COMMIT, all in the
  // target's transaction, so no other session ever sees the table without them.
  std::vector<ForeignKey> recreated;
  ForeignKeys& fks = target.foreign_keys;
  if (!fks.keys.empty() && !fks.owner) {
    env.Out().Line(Stream::kStderr, "warning: foreign keys of " + to->name + " on " + step.to.name +
                                        " are checked per row: after_copy re-creates them, which "
                                        "only the table's owner may do");
  } else {
    recreated = std::move(fks.keys);
  }
  std::vector<std::unordered_set<std::string>> seen(keys.size());
  std::vector<std::vector<std::string>> values(keys.size());
  std::function<void(std::string_view)> on_row;
  if (!keys.empty()) {
    on_row = [&](std::string_view row) {
      for (size_t k = 0; k < keys.size(); ++k) {
        std::optional<std::string> v = CopyTextField(row, keys[k].second);
        if (v && seen[k].insert(*v).second) values[k].push_back(std::move(*v));
      }
    };
  }
  const auto started = std::chrono::steady_clock::now();
  CopyOptions options;
  const bool row_triggers =
      recreated.empty() ? to->after_row_triggers : to->other_after_row_triggers;
  if (row_triggers && !to->statement_triggers) {
    options.rows_per_statement = kRowsPerTargetStatement;
  }
  // The target's changes before the COPY: made while the source server starts on its query.
  options.prepare_target = [&]() -> Status {
    if (step.truncate) {
      Result<PgResult> t = dst.Exec("TRUNCATE " + to->name);
      if (!t.ok()) return Status::Error("target: " + t.message());
    }
    if (!recreated.empty()) {
      Result<PgResult> d =
          dst.Exec("ALTER TABLE " + to->name + " " + AlterForeignKeys(recreated, false));
      if (!d.ok()) return Status::Error("target: " + d.message());
    }
    return Status::Ok();
  };
  Result<CopyStats> stats = StreamCopy(src, copy_out, dst, copy_in, on_row, options);
  if (!stats.ok()) return {false, stats.message()};
  if (!recreated.empty()) {
    if (Status st = RecreateForeignKeys(dst, to->name, recreated); !st.ok()) {
      return {false, st.message()};
    }
  }
  if (Result<PgResult> c = dst.Exec("COMMIT"); !c.ok()) return {false, "target: " + c.message()};
  (void)src.Exec("COMMIT");
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (size_t k = 0; k < keys.size(); ++k) {
    if (Status s = env.SaveData(KeyDataName(keys[k].first), TextArrayLiteral(values[k])); !s.ok()) {
      return {false, "copied, but cannot save the values of " + keys[k].first + ": " + s.message()};
    }
  }
  const std::string summary =
      "copied " + std::to_string(stats->rows) + " rows (" + FormatBytes(stats->bytes) + ") from " +
      step.from.name + " to " + step.to.name + " in " + FormatSeconds(secs) +
      (binary ? " (binary" : " (text") +
      (recreated.empty() ? std::string(")")
                         : "; " + std::to_string(recreated.size()) +
                               (recreated.size() == 1 ? " foreign key" : " foreign keys") +
                               " checked after the copy)");
  return {true, summary};
}

}  // namespace

std::string BuildCopySelect(const std::string& table, const std::string& columns,
                            const std::string& filter, const std::string& order_by,
                            std::optional<int64_t> every, std::optional<int64_t> limit,
                            const std::string& key) {
  const std::string where = filter.empty() ? "" : " WHERE " + filter;
  const std::string lim = limit ? " LIMIT " + std::to_string(*limit) : "";
  if (every && !key.empty() && filter.empty()) {
    // Only the key is read to choose the rows (the primary key index alone, an index-only scan);
    // the chosen rows are then fetched by key. A one-column key is matched with
    // = ANY(ARRAY(...)), which the planner serves from the index, where IN tends to hash a scan
    // of the whole table.
    std::string chosen;
    if (*every >= kSkipScanMinEvery) {
      // Each chosen key found from the one before: the index walked N keys on, no row numbered.
      // ROW(runbook_sample.*) is the previous key's columns (one column: a plain comparison).
      const std::string n = std::to_string(*every - 1);
      chosen = "WITH RECURSIVE runbook_sample AS ((SELECT " + key + " FROM " + table +
               " ORDER BY " + key + " OFFSET " + n +
               " LIMIT 1) UNION ALL SELECT runbook_next.* "
               "FROM runbook_sample CROSS JOIN LATERAL (SELECT " +
               key + " FROM " + table + " WHERE ROW(" + key +
               ") > ROW(runbook_sample.*) ORDER BY " + key + " OFFSET " + n +
               " LIMIT 1) AS runbook_next) SELECT " + key + " FROM runbook_sample" + lim;
    } else {
      chosen = "SELECT " + key + " FROM (SELECT " + key + ", row_number() OVER (ORDER BY " + key +
               ") AS runbook_row FROM " + table + ") AS runbook_sample WHERE runbook_row % " +
               std::to_string(*every) + " = 0 ORDER BY runbook_row" + lim;
    }
    const bool composite = key.find(',') != std::string::npos;
    return "SELECT " + columns + " FROM " + table + " WHERE " +
           (composite ? "(" + key + ") IN (" + chosen + ")"
                      : key + " = ANY(ARRAY(" + chosen + "))") +
           " ORDER BY " + key;
  }
  if (every) {
    // The row number is computed inside and filtered outside, so it is never copied.
    return "SELECT " + columns + " FROM (SELECT " + columns + ", row_number() OVER (ORDER BY " +
           order_by + ") AS runbook_row FROM " + table + where +
           ") AS runbook_sample WHERE runbook_row % " + std::to_string(*every) +
           " = 0 ORDER BY runbook_row" + lim;
  }
  return "SELECT " + columns + " FROM " + table + where +
         (order_by.empty() ? "" : " ORDER BY " + order_by) + lim;
}

std::unique_ptr<StepKind> CopyRowsStep::Parse(const DocNode& value, const std::string& owner,
                                              Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"from",  "to",       "table",       "columns",
                                                 "where", "order_by", "every",       "limit",
                                                 "match", "truncate", "foreign_keys"};
  static const std::vector<std::string> kMatchKeys = {"column", "step", "parent_column"};
  const std::string context = "'copy_rows' of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return nullptr;
  CopyRowsStep c;
  bool ok = true;
  auto from = r.RequireName("from");
  auto to = r.RequireName("to");
  auto table = r.RequireText("table");
  ok = from && to && table;
  if (ok) {
    c.from = std::move(*from);
    c.to = std::move(*to);
    c.table = std::move(*table);
  }
  if (r.Has("columns")) {
    auto cols = r.TextList("columns", AllowSingle::kNo);
    if (cols && cols->empty()) {
      diags->Error(r.Get("columns")->loc, "'columns' is empty: leave it out to copy all columns");
      ok = false;
    } else if (cols) {
      c.columns = std::move(*cols);
    } else {
      ok = false;
    }
  }
  c.where = r.GetText("where");
  c.order_by = r.GetText("order_by");
  c.every = r.GetText("every");
  c.limit = r.GetText("limit");
  if (c.every) CheckLiteral(*c.every, "'every'", PositiveCount, diags);
  if (c.limit) CheckLiteral(*c.limit, "'limit'", PositiveCount, diags);
  if (c.every && !c.order_by) {
    diags->Error(r.GetKey("every")->loc, "'every' needs 'order_by' in " + context +
                                             ": rows are kept every Nth in that order");
    ok = false;
  }
  if (const DocNode* m = r.Get("match")) {
    MapReader mr(*m, "'match' of " + owner, kMatchKeys, diags);
    if (mr.ok()) {
      auto column = mr.RequireText("column");
      auto step = mr.RequireName("step");
      auto parent = mr.RequireText("parent_column");
      if (column && step && parent) {
        c.match =
            CopyMatch{std::move(column->raw), std::move(*step), std::move(parent->raw), m->loc};
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (auto t = r.Bool("truncate")) c.truncate = *t;
  if (r.Has("foreign_keys")) {
    if (auto fk = r.Choice("foreign_keys", {"per_row", "after_copy"})) {
      c.foreign_keys = *fk == 0 ? ForeignKeyCheck::kPerRow : ForeignKeyCheck::kAfterCopy;
    } else {
      ok = false;
    }
  }
  if (!ok) return nullptr;
  return std::make_unique<CopyRowsStep>(std::move(c));
}

namespace {

// The ids of the copy_rows steps, for suggestions.
std::vector<std::string> CopyRowsIds(const Runbook& rb) {
  std::vector<std::string> ids;
  for (const auto* list : {&rb.steps, &rb.finally}) {
    for (const Step& s : *list) {
      if (dynamic_cast<const CopyRowsStep*>(s.kind.get())) ids.push_back(s.id);
    }
  }
  return ids;
}

void CheckMatch(const CopyMatch& m, KindCheck& check) {
  const Step* target = check.runbook().FindStep(m.step.name);
  if (target == nullptr) {
    check.Error(m.step.loc, "match names unknown step '" + m.step.name + "'" +
                                DidYouMean(m.step.name, CopyRowsIds(check.runbook())));
  } else if (!dynamic_cast<const CopyRowsStep*>(target->kind.get())) {
    check.Error(m.step.loc, "match names step '" + target->id + "', a " + target->kind->Name() +
                                " step: it must be a copy_rows step");
  } else if (target == &check.step()) {
    check.Error(m.step.loc, "match names the step itself: it must be an earlier copy_rows step");
  } else {
    check.RunsAfter(*target, m.step.loc,
                    "match step '" + target->id + "' must run before '" + check.step().id +
                        "': add it to needs");
  }
}

}  // namespace

void CopyRowsStep::Check(KindCheck& check) const {
  check.Database(from);
  check.Database(to);
  // Every field here ends up in the statement's text, so none may hold a secret.
  check.Statement(table, "copy_rows");
  for (const Text& c : columns) check.Statement(c, "copy_rows");
  check.Statement(where, "copy_rows");
  check.Statement(order_by, "copy_rows");
  check.Statement(every, "copy_rows");
  check.Statement(limit, "copy_rows");
  if (match) CheckMatch(*match, check);
}

void CopyRowsStep::Define(DefinitionBuilder& def) const {
  def.Set("from", from.name);
  def.Set("to", to.name);
  def.Put("table", table);
  StepDefinition::Strings cols;
  for (const Text& c : columns) cols.push_back(def.Display(c));
  def.Set("columns", std::move(cols));
  def.Put("where", where);
  def.Put("order_by", order_by);
  def.Put("every", every);
  def.Put("limit", limit);
  if (match) {
    def.Set("match", StepDefinition::StringMap{{"column", match->column},
                                               {"parent_column", match->parent_column},
                                               {"step", match->step.name}});
  }
  def.Set("truncate", truncate);
  def.Set("foreign_keys",
          std::string(foreign_keys == ForeignKeyCheck::kAfterCopy ? "after_copy" : "per_row"));
}

std::vector<std::string> CopyRowsStep::Observe(StepEnv&) const {
  return {};
}

std::vector<std::string> CopyRowsStep::ColumnsMatchedFrom(const std::string& step_id) const {
  if (!match || match->step.name != step_id) return {};
  return {match->parent_column};
}

StepDescription CopyRowsStep::Describe(StepEnv& env) const {
  const CopyRowsStep& step = *this;
  Result<RenderedFields> r = Render(step, env);
  if (!r.ok()) return {{"<" + r.message() + ">"}, std::nullopt};
  const std::string columns = r->columns.empty() ? "*" : Join(r->columns, ", ");
  std::vector<std::string> filters;
  if (r->where) filters.push_back("(" + r->where->display + ")");
  if (step.match) {
    filters.push_back(step.match->column + " = ANY(<values of " + step.match->parent_column +
                      " copied by step " + step.match->step.name + ">)");
  }
  std::string order = r->order_by ? r->order_by->display : "";
  if (r->every && order.empty()) order = "<primary key>";
  const bool after_copy = step.foreign_keys == ForeignKeyCheck::kAfterCopy;
  return {
      {
          "on " + step.from.name + " (REPEATABLE READ READ ONLY): COPY (" +
              BuildCopySelect(r->table, columns, Join(filters, " AND "), order, r->every,
                              r->limit) +
              ") TO STDOUT",
          "on " + step.to.name +
              " (one transaction): " + (step.truncate ? "TRUNCATE " + r->table + "; " : "") +
              (after_copy ? "ALTER TABLE " + r->table + " DROP <its foreign keys>; " : "") +
              "COPY " + r->table + " (" + columns + ") FROM STDIN" +
              (after_copy ? "; ALTER TABLE " + r->table + " ADD <them again> (each checked once)"
                          : ""),
      },
      std::nullopt};
}

StepOutcome CopyRowsStep::Run(StepEnv& env) const {
  const CopyRowsStep& step = *this;
  Result<RenderedFields> r = Render(step, env);
  if (!r.ok()) return {false, r.message()};
  if (env.dry_run() == DryRun::kYes) {
    for (const std::string& line : Describe(env).details) {
      env.Out().Line(Stream::kInfo, line);
    }
    return {true, "dry run: nothing copied"};
  }
  // One table name for both sides: the same database would copy the table onto itself (with
  // truncate, the two connections would wait on each other's locks). Refused here rather than
  // when the runbook is loaded, so that plans of such runbooks still show what they would do.
  if (step.from.name == step.to.name) {
    return {false, "'from' and 'to' are the same database (" + step.from.name +
                       "): copy_rows copies a table from one database into another"};
  }
  // Both sides are made ready at once (each a server process start, a BEGIN and a catalog read).
  Result<DbTarget> from = env.Database(step.from);
  if (!from.ok()) return {false, from.message()};
  Result<DbTarget> to = env.Database(step.to);
  if (!to.ok()) return {false, to.message()};
  const std::string app = StepApplicationName(env.run_id(), env.step_id());
  std::future<Result<Side>> src_future = std::async(std::launch::async, [&] {
    return OpenSide(*from, app, env, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", r->table,
                    "source");
  });
  std::future<Result<Side>> dst_future = std::async(std::launch::async, [&]() -> Result<Side> {
    Result<Side> side = OpenSide(*to, app, env, "BEGIN", r->table, "target");
    if (side.ok() && step.foreign_keys == ForeignKeyCheck::kAfterCopy) {
      Result<ForeignKeys> fks = ReadForeignKeys(*side->conn, side->table.name);
      if (!fks.ok()) return Result<Side>::Error(fks.message());
      side.value().foreign_keys = std::move(fks.value());
    }
    return side;
  });
  // Meanwhile the step's journal record is made durable: nothing is changed before it is.
  const Status may_change = env.BeforeChanges();
  Result<Side> dst = dst_future.get();
  Result<Side> src = src_future.get();
  StepOutcome outcome;
  if (!may_change.ok()) {
    outcome = {false, may_change.message()};
  } else if (!src.ok()) {
    outcome = {false, src.message()};
  } else if (!dst.ok()) {
    outcome = {false, dst.message()};
  } else {
    outcome = Copy(step, env, *r, src.value(), dst.value());
  }
  // Connections that committed are kept for the run's later steps; the others close with their
  // transactions open, and the servers roll those back.
  if (PgPool* pool = env.ConnectionPool()) {
    pool->Give(*from, src.ok() ? std::move(src.value().conn) : nullptr);
    pool->Give(*to, dst.ok() ? std::move(dst.value().conn) : nullptr);
  }
  return outcome;
}

}  // namespace runbook
