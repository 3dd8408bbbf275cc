// migrations_applied against a tiny Django project (Debian's python3-django) on the test cluster.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "steps/migrations_applied.h"
#include "tests/integration/pg_harness.h"
#include "tests/unit/fake_step_env.h"

namespace runbook {
namespace {

namespace fs = std::filesystem;
using testing::CreateTestDb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Pg;

// Debian's interpreter: python3-django is installed for it, not for other pythons on PATH.
constexpr const char* kPython = "/usr/bin/python3";

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = CreateTestDb();
    env_.databases["db"] = Pg().Target(db_, "db");
    dir_ = fs::path(::testing::TempDir()) / ("django-" + db_);
    fs::remove_all(dir_);
    Write(dir_ / "manage.py",
          "import os, sys\n"
          "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
          "from django.core.management import execute_from_command_line\n"
          "execute_from_command_line(sys.argv)\n");
    Write(dir_ / "proj/__init__.py", "");
    Write(dir_ / "proj/settings.py",
          "SECRET_KEY = 'test'\nINSTALLED_APPS = ['shop']\nUSE_TZ = True\n"
          "DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'\n"
          "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': '" +
              db_ + "', 'USER': 'postgres', 'HOST': '" + Pg().dir + "', 'PORT': '" +
              std::to_string(Pg().port) + "'}}\n");
    Write(dir_ / "shop/__init__.py", "");
    Write(dir_ / "shop/models.py",
          "from django.db import models\n"
          "class Item(models.Model):\n"
          "    name = models.CharField(max_length=50)\n"
          "    price = models.IntegerField(default=0)\n");
    Write(dir_ / "shop/migrations/__init__.py", "");
    Write(dir_ / "shop/migrations/0001_initial.py",
          "from django.db import migrations, models\n"
          "class Migration(migrations.Migration):\n"
          "    initial = True\n"
          "    dependencies = []\n"
          "    operations = [migrations.CreateModel(name='Item', fields=[\n"
          "        ('id', models.AutoField(primary_key=True)),\n"
          "        ('name', models.CharField(max_length=50))])]\n");
    Write(dir_ / "shop/migrations/0002_item_price.py",
          "from django.db import migrations, models\n"
          "class Migration(migrations.Migration):\n"
          "    dependencies = [('shop', '0001_initial')]\n"
          "    operations = [migrations.AddField(model_name='item', name='price',\n"
          "        field=models.IntegerField(default=0))]\n");
    Migrate("0001");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Migrate(const std::string& target) {
    ProcessSpec spec;
    spec.argv = {kPython, "manage.py", "migrate", "shop", target};
    spec.cwd = dir_.string();
    RecordingSink sink;
    ProcessResult r = RunLocallyForTest(spec, &sink);
    ASSERT_EQ(r.exit_code, 0) << sink.Text();
  }
  MigrationsAppliedGuard DjangoGuard() {
    MigrationsAppliedGuard g;
    g.db = {"db", {}};
    g.django = DjangoCheck{T((dir_ / "manage.py").string()), T(kPython)};
    return g;
  }
  MigrationsAppliedGuard DirGuard() {
    MigrationsAppliedGuard g;
    g.db = {"db", {}};
    g.migrations_dir = T(dir_.string());
    return g;
  }

  std::string db_;
  fs::path dir_;
  FakeStepEnv env_;
};

TEST_F(MigrationsTest, DjangoModeNamesTheUnappliedMigration) {
  GuardResult r = DjangoGuard().Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.summary, "1 Django migration is not applied");
  EXPECT_THAT(r.evidence, ElementsAre("shop.0002_item_price"));
  ASSERT_EQ(env_.run_calls.size(), 1u);
  EXPECT_EQ(env_.run_calls[0].first, "local");
  // Asked through the step's command path (its host, user and env), from manage.py's directory.
  const std::vector<std::string>& argv = env_.run_calls[0].second.argv;
  // A fixed script; the paths are its arguments, data whatever they hold.
  ASSERT_EQ(argv.size(), 7u);
  EXPECT_EQ(argv[0], "/bin/sh");
  EXPECT_EQ(argv[2],
            "cd \"$1\" && exec env PYTHONDONTWRITEBYTECODE=1 \"$2\" \"$3\" showmigrations --plan");
  EXPECT_EQ(argv[4], dir_.string());
  EXPECT_EQ(argv[5], kPython);
  EXPECT_EQ(argv[6], "manage.py");
  Migrate("0002");
  EXPECT_TRUE(DjangoGuard().Evaluate(env_).held);
}

TEST_F(MigrationsTest, DjangoModeWritesNoBytecodeIntoTheProject) {
  // Plans and dry runs evaluate guards: Python's __pycache__ must not appear in the application's
  // tree, whatever the engine's own environment says.
  for (auto it = fs::recursive_directory_iterator(dir_);
       it != fs::recursive_directory_iterator();) {
    if (it->path().filename() == "__pycache__") {
      const fs::path p = it->path();
      it.disable_recursion_pending();
      ++it;
      fs::remove_all(p);
    } else {
      ++it;
    }
  }
  const char* saved = std::getenv("PYTHONDONTWRITEBYTECODE");
  const std::string saved_value = saved ? saved : "";
  unsetenv("PYTHONDONTWRITEBYTECODE");
  GuardResult r = DjangoGuard().Evaluate(env_);
  if (saved) setenv("PYTHONDONTWRITEBYTECODE", saved_value.c_str(), 1);
  EXPECT_FALSE(r.held) << r.summary;
  EXPECT_THAT(r.evidence, ElementsAre("shop.0002_item_price"));
  std::vector<std::string> written;
  for (const auto& e : fs::recursive_directory_iterator(dir_)) {
    if (e.path().filename() == "__pycache__") written.push_back(e.path().string());
  }
  EXPECT_THAT(written, ::testing::IsEmpty());
}

TEST_F(MigrationsTest, DirModeComparesFilesWithDjangoMigrations) {
  GuardResult r = DirGuard().Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.summary, HasSubstr("1 of 2 migration files in"));
  EXPECT_THAT(r.evidence, ElementsAre("shop.0002_item_price"));
  Migrate("0002");
  r = DirGuard().Evaluate(env_);
  EXPECT_TRUE(r.held) << r.summary;
}

TEST_F(MigrationsTest, DirModeOnAnEmptyDatabaseListsEverything) {
  env_.databases["db"] = Pg().Target(CreateTestDb("_empty"), "db");
  GuardResult r = DirGuard().Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.evidence, ElementsAre("shop.0001_initial", "shop.0002_item_price"));
}

TEST_F(MigrationsTest, DjangoFailureFailsTheGuardWithItsErrors) {
  MigrationsAppliedGuard g = DjangoGuard();
  g.django->manage = T((dir_ / "missing" / "manage.py").string());
  fs::create_directories(dir_ / "missing");
  GuardResult r = g.Evaluate(env_);
  EXPECT_FALSE(r.held);
  EXPECT_THAT(r.summary, HasSubstr("migrations_applied cannot be evaluated"));
  EXPECT_THAT(r.evidence, ::testing::Contains(HasSubstr("manage.py")));
}

}  // namespace
}  // namespace runbook
