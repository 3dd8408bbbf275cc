// The `cancel_queries` step: cancels long-running queries of other sessions on a database.
//
// Cancels (pg_cancel_backend: the query, not the session) every query on the step's database
// that is active, has run at least `older_than` (default: any age), is not ours (neither this
// connection nor any connection of this run), matches `application_name` when given (exact, or
// a pattern with '*'), and, with `read_only` (the default), belongs to a backend that holds no
// transaction id, i.e. has written nothing in its current transaction. Selection and cancel are
// one statement, so a backend is judged on the state it is cancelled in (a backend may still
// start writing in the instant between; PostgreSQL offers no atomic check).
// Reports each cancelled query: pid, user, application, duration and text.
// Dry run: lists what would be cancelled and cancels nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/doc.h"
#include "engine/step_kind.h"

namespace runbook {

struct CancelQueriesStep final : StepKind {
  static constexpr const char* kKey = "cancel_queries";
  static std::unique_ptr<StepKind> Parse(const DocNode& value, const std::string& owner,
                                         Diagnostics* diags);

  NameRef db;
  std::optional<Text> older_than;  // duration
  bool read_only = true;
  std::optional<Text> application_name;

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  void Define(DefinitionBuilder& def) const override;
  StepDescription Describe(StepEnv& env) const override;
  // The queries the step would cancel if it ran now, a line each ("would cancel pid ...", as the
  // run reports them), "no query would be cancelled now", or "cannot tell now: WHY". The
  // selection runs in a read-only transaction; nothing is cancelled.
  std::vector<std::string> Observe(StepEnv& env) const override;
  StepOutcome Run(StepEnv& env) const override;
};

}  // namespace runbook
