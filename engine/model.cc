#include "engine/model.h"

#include <algorithm>

namespace runbook {

const char* GuardKindName(const GuardKind& kind) {
  struct Namer {
    const char* operator()(const PostgresIdleGuard&) const { return "postgres_idle"; }
    const char* operator()(const MigrationsAppliedGuard&) const { return "migrations_applied"; }
    const char* operator()(const BackupFreshGuard&) const { return "backup_fresh"; }
    const char* operator()(const SqlGuard&) const { return "sql"; }
    const char* operator()(const CommandGuard&) const { return "command"; }
  };
  return std::visit(Namer{}, kind);
}

const char* StepKindName(const StepKind& kind) {
  struct Namer {
    const char* operator()(const RunStep&) const { return "run"; }
    const char* operator()(const SqlStep&) const { return "sql"; }
    const char* operator()(const CopyRowsStep&) const { return "copy_rows"; }
    const char* operator()(const CancelQueriesStep&) const { return "cancel_queries"; }
    const char* operator()(const ManualStep&) const { return "manual"; }
  };
  return std::visit(Namer{}, kind);
}

namespace {
template <class T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.name == name; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Param* Runbook::FindParam(std::string_view n) const {
  return FindByName(params, n);
}
const Secret* Runbook::FindSecret(std::string_view n) const {
  return FindByName(secrets, n);
}
const Host* Runbook::FindHost(std::string_view n) const {
  return FindByName(hosts, n);
}
const Database* Runbook::FindDatabase(std::string_view n) const {
  return FindByName(databases, n);
}

const Step* Runbook::FindStep(std::string_view id) const {
  for (const auto* list : {&steps, &finally}) {
    for (const Step& s : *list) {
      if (s.id == id) return &s;
    }
  }
  return nullptr;
}

}  // namespace runbook
