// The `migrations_applied` guard: every Django migration of the project is applied on `db`.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/diag.h"
#include "engine/model.h"
#include "engine/step_env.h"

namespace runbook {

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
GuardResult EvalMigrationsApplied(const MigrationsAppliedGuard& guard, StepEnv& env);

std::vector<std::string> DescribeMigrationsApplied(const MigrationsAppliedGuard& guard,
                                                   StepEnv& env);

// The unapplied migrations in `showmigrations --plan` output ("[ ]  app.0002_x" lines).
std::vector<std::string> ParseShowMigrationsPlan(const std::string& output);

// The migrations (app, name) found under `dir` (see above), sorted.
Result<std::vector<std::pair<std::string, std::string>>> FindMigrationFiles(const std::string& dir);

}  // namespace runbook
