// The `migrations_applied` guard: every Django migration of the project is applied on `db`.
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

struct DjangoCheck {
  Text manage;  // path to manage.py
  std::optional<Text> python;
};

struct MigrationsAppliedGuard final : GuardKind {
  static constexpr const char* kKey = "migrations_applied";
  static std::unique_ptr<GuardKind> Parse(const MapReader& guard, const DocNode& value,
                                          const std::string& owner, Diagnostics* diags);

  NameRef db;
  std::optional<DjangoCheck> django;   // ask Django itself
  std::optional<Text> migrations_dir;  // or compare files with django_migrations

  const char* Name() const override { return kKey; }
  void Check(KindCheck& check) const override;
  // Two ways to know:
  // - `django: {manage, python}` asks Django itself: runs `PYTHON MANAGE showmigrations --plan`
  //   (python default "python3") the way the step runs (its host, user and env), in manage.py's
  //   directory, with PYTHONDONTWRITEBYTECODE=1 (a guard writes nothing, not even __pycache__),
  //   and takes every "[ ]" line as unapplied. Django's settings choose the database; `db` is not
  //   used then.
  // - `migrations_dir: DIR` compares files: every NNNN_name.py in a `migrations` directory (with
  //   an __init__.py) under DIR, or DIR itself when it is one, against the (app, name) rows of
  //   django_migrations on `db`. The app label is the name of the directory holding `migrations`
  //   (Django's default label). A missing django_migrations table means nothing is applied.
  // Evidence: the unapplied migrations as "app.NNNN_name". A failure to ask fails the guard.
  GuardResult Evaluate(StepEnv& env) const override;
};

// The unapplied migrations in `showmigrations --plan` output ("[ ]  app.0002_x" lines).
std::vector<std::string> ParseShowMigrationsPlan(const std::string& output);

// The migrations (app, name) found under `dir` (see above), sorted.
Result<std::vector<std::pair<std::string, std::string>>> FindMigrationFiles(const std::string& dir);

}  // namespace runbook
