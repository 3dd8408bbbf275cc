// The `postgres_idle` guard: no other active backend on the database.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

class MapReader;

struct PostgresIdleGuard final : GuardKind {
  static constexpr const char* kKey = "postgres_idle";
  static std::unique_ptr<GuardKind> Parse(const MapReader& guard, const DocNode& value,
                                          const std::string& owner, Diagnostics* diags);

  NameRef db;
  int max_active = 0;  // other active backends tolerated
  std::vector<std::string> ignore_applications;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  // Counts the client backends connected to the guard's database that are not idle (active, idle
  // in transaction, ... or of unknown state when we may not see it), leaving out our own
  // connections (our pid and every connection of this run: application_name "runbook/<run id>...")
  // and those whose application_name is in `ignore_applications`. Held when the count is at most
  // `max_active`. Evidence: one line per backend with pid, user, application, state, how long its
  // query has run and the query text. An unreachable database fails the guard.
  GuardResult Evaluate(StepEnv& env) const override;
};

}  // namespace runbook
