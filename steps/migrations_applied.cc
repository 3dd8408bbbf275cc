#include "steps/migrations_applied.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/pg.h"
#include "engine/reader.h"
#include "steps/pg_util.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;

// Keeps a process's lines to parse them afterwards.
class CollectingSink : public OutputSink {
 public:
  void Line(Stream stream, std::string_view line) override {
    (stream == Stream::kStdout ? out_ : err_) += std::string(line) + "\n";
  }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  std::string out_;
  std::string err_;
};

bool IsMigrationFile(const std::string& name) {
  return name.size() > 8 && std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::isdigit(static_cast<unsigned char>(name[1])) &&
         std::isdigit(static_cast<unsigned char>(name[2])) &&
         std::isdigit(static_cast<unsigned char>(name[3])) && name[4] == '_' &&
         name.ends_with(".py");
}

void AddMigrationsOf(const fs::path& migrations_dir,
                     std::vector<std::pair<std::string, std::string>>& out) {
  const std::string app = migrations_dir.parent_path().filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(migrations_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && IsMigrationFile(name)) {
      out.emplace_back(app, name.substr(0, name.size() - 3));
    }
  }
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

GuardResult EvalDjango(const MigrationsAppliedGuard& guard, StepEnv& env) {
  GuardResult out;
  Result<std::string> manage = env.Render(guard.django->manage);
  if (!manage.ok()) {
    out.summary = "migrations_applied: " + manage.message();
    return out;
  }
  std::string python = "python3";
  if (guard.django->python) {
    Result<std::string> p = env.Render(*guard.django->python);
    if (!p.ok()) {
      out.summary = "migrations_applied: " + p.message();
      return out;
    }
    python = *p;
  }
  // Django answers where the application lives: on the step's host, as its user, with its env
  // (e.g. PYTHONUSERBASE), from manage.py's directory. A guard changes nothing, plans and dry
  // runs evaluate it: no __pycache__ written into the application's tree.
  // A fixed script; the paths are its arguments, data whatever they hold.
  Command check;
  check.words.push_back(
      Text{"cd \"$1\" && exec env PYTHONDONTWRITEBYTECODE=1 \"$2\" \"$3\" showmigrations --plan",
           guard.django->manage.loc});
  CollectingSink sink;
  const ProcessResult pr =
      env.RunCommand(check, std::nullopt, &sink,
                     CommandInputs{{},
                                   {fs::path(*manage).parent_path().string(), python,
                                    fs::path(*manage).filename().string()}});
  if (!pr.ok()) {
    out.summary = "migrations_applied cannot be evaluated: " + python + " " + *manage +
                  " showmigrations --plan: " +
                  (!pr.started    ? "could not start: " + pr.error
                   : pr.timed_out ? std::string("timed out")
                   : pr.cancelled ? std::string("cancelled")
                                  : "exit " + std::to_string(pr.exit_code));
    out.evidence = SplitLines(sink.err());
    return out;
  }
  out.evidence = ParseShowMigrationsPlan(sink.out());
  out.held = out.evidence.empty();
  out.summary = out.held ? "all Django migrations are applied (" + *manage + ")"
                         : std::to_string(out.evidence.size()) + " Django migration" +
                               (out.evidence.size() == 1 ? " is" : "s are") + " not applied";
  return out;
}

GuardResult EvalMigrationsDir(const MigrationsAppliedGuard& guard, StepEnv& env) {
  GuardResult out;
  Result<std::string> dir = env.Render(*guard.migrations_dir);
  if (!dir.ok()) {
    out.summary = "migrations_applied: " + dir.message();
    return out;
  }
  auto files = FindMigrationFiles(*dir);
  if (!files.ok()) {
    out.summary = "migrations_applied cannot be evaluated: " + files.message();
    return out;
  }
  auto conn = ConnectForStep(env, guard.db);
  if (!conn.ok()) {
    out.summary =
        "migrations_applied on " + guard.db.name + " cannot be evaluated: " + conn.message();
    return out;
  }
  Result<PgResult> exists =
      ExecReadOnly(**conn, "SELECT to_regclass('django_migrations') IS NOT NULL");
  if (!exists.ok()) {
    out.summary = "migrations_applied on " + guard.db.name + ": " + exists.message();
    return out;
  }
  std::set<std::pair<std::string, std::string>> applied;
  if (exists->rows.size() == 1 && exists->rows[0][0] == std::optional<std::string>("t")) {
    Result<PgResult> r = ExecReadOnly(**conn, "SELECT app, name FROM django_migrations");
    if (!r.ok()) {
      out.summary = "migrations_applied on " + guard.db.name + ": " + r.message();
      return out;
    }
    for (const PgRow& row : r->rows) applied.emplace(row[0].value_or(""), row[1].value_or(""));
  }
  for (const auto& [app, name] : *files) {
    if (!applied.count({app, name})) out.evidence.push_back(app + "." + name);
  }
  out.held = out.evidence.empty();
  const std::string count = std::to_string(files->size()) + " migration files in " + *dir;
  out.summary = out.held ? "all " + count + " are applied on " + guard.db.name
                         : std::to_string(out.evidence.size()) + " of " + count +
                               (out.evidence.size() == 1 ? " is" : " are") + " not applied on " +
                               guard.db.name;
  return out;
}

}  // namespace

std::vector<std::string> ParseShowMigrationsPlan(const std::string& output) {
  std::vector<std::string> unapplied;
  for (const std::string& line : SplitLines(output)) {
    size_t i = line.find_first_not_of(' ');
    if (i == std::string::npos || line.compare(i, 3, "[ ]") != 0) continue;
    std::string name = line.substr(i + 3);
    const size_t b = name.find_first_not_of(' ');
    name = b == std::string::npos ? "" : name.substr(b);
    // "--plan -v 2" appends " (dependencies...)"; keep only the migration's name.
    const size_t space = name.find(' ');
    if (space != std::string::npos) name = name.substr(0, space);
    if (!name.empty()) unapplied.push_back(name);
  }
  return unapplied;
}

Result<std::vector<std::pair<std::string, std::string>>> FindMigrationFiles(
    const std::string& dir) {
  using Files = std::vector<std::pair<std::string, std::string>>;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Result<Files>::Error("migrations_dir " + dir + " is not a directory");
  }
  Files out;
  const fs::path root(dir);
  if (root.filename() == "migrations" || fs::exists(root / "__init__.py", ec)) {
    AddMigrationsOf(fs::path(dir).lexically_normal(), out);
  }
  if (out.empty()) {
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!it->is_directory(ec)) continue;
      if (name.starts_with(".") || name == "node_modules" || name == "__pycache__" ||
          name == "site-packages") {
        it.disable_recursion_pending();
        continue;
      }
      if (name == "migrations" && fs::exists(it->path() / "__init__.py", ec)) {
        AddMigrationsOf(it->path(), out);
        it.disable_recursion_pending();
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<GuardKind> MigrationsAppliedGuard::Parse(const MapReader&, const DocNode& value,
                                                         const std::string& owner,
                                                         Diagnostics* diags) {
  static const std::vector<std::string> kKeys = {"db", "django", "migrations_dir"};
  static const std::vector<std::string> kDjangoKeys = {"manage", "python"};
  const std::string context = "'migrations_applied' guard of " + owner;
  MapReader r(value, context, kKeys, diags);
  if (!r.ok()) return nullptr;
  MigrationsAppliedGuard g;
  bool ok = true;
  auto db = r.RequireName("db");
  if (const DocNode* d = r.Get("django")) {
    MapReader dr(*d, "'django' of " + owner, kDjangoKeys, diags);
    auto manage = dr.RequireText("manage");
    if (manage) {
      g.django = DjangoCheck{std::move(*manage), dr.GetText("python")};
    } else {
      ok = false;
    }
  }
  g.migrations_dir = r.GetText("migrations_dir");
  if (r.Has("django") && r.Has("migrations_dir")) {
    diags->Error(r.GetKey("migrations_dir")->loc,
                 context + " has both 'django' and 'migrations_dir': keep one");
    ok = false;
  } else if (!r.Has("django") && !r.Has("migrations_dir")) {
    diags->Error(value.loc, context +
                                " needs 'django: {manage: PATH}' (ask Django) or 'migrations_dir' "
                                "(compare files with django_migrations)");
    ok = false;
  }
  if (!db || !ok) return nullptr;
  g.db = std::move(*db);
  return std::make_unique<MigrationsAppliedGuard>(std::move(g));
}

void MigrationsAppliedGuard::Check(KindCheck& check) const {
  check.Database(db);
  if (django) {
    check.Template(django->manage);
    check.Template(django->python);
  }
  check.Template(migrations_dir);
}

GuardResult MigrationsAppliedGuard::Evaluate(StepEnv& env) const {
  const MigrationsAppliedGuard& guard = *this;
  if (guard.django) return EvalDjango(guard, env);
  if (guard.migrations_dir) return EvalMigrationsDir(guard, env);
  GuardResult out;
  out.summary = "migrations_applied needs django or migrations_dir";
  return out;
}

}  // namespace runbook
