#include <charconv>

#include "engine/reader.h"
#include "steps/parse_kinds.h"

namespace runbook {
namespace {

Result<int64_t> PositiveCount(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 1) {
    return Result<int64_t>::Error("expected a positive integer, got '" + std::string(s) + "'");
  }
  return v;
}

}  // namespace

std::optional<CopyRowsStep> ParseCopyRowsStep(const DocNode& value, const std::string& owner,
                                              Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"from",  "to",       "table",       "columns",
                                                 "where", "order_by", "every",       "limit",
                                                 "match", "truncate", "foreign_keys"};
  static const std::vector<std::string> kMatchKeys = {"column", "step", "parent_column"};
  const std::string context = "'copy_rows' of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return std::nullopt;
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
  if (!ok) return std::nullopt;
  return c;
}

}  // namespace runbook
