#include "engine/state_dir.h"

#include "engine/journal.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <fstream>

#include <cstdlib>
#include <filesystem>
#include <set>

namespace runbook {
namespace {

namespace fs = std::filesystem;

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class StateDirTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "state_dir_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static unsigned Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string dir_;
};

TEST(StateDirPathTest, EnvironmentPrecedence) {
  ScopedEnv home("HOME", "/home/jane");
  {
    ScopedEnv a("RUNBOOK_STATE_DIR", "/srv/state");
    ScopedEnv b("XDG_STATE_HOME", "/xdg");
    EXPECT_EQ(StateDir(), "/srv/state");
  }
  {
    ScopedEnv a("RUNBOOK_STATE_DIR", "");
    ScopedEnv b("XDG_STATE_HOME", "/xdg");
    EXPECT_EQ(StateDir(), "/xdg/runbook");
  }
  {
    ScopedEnv a("RUNBOOK_STATE_DIR", nullptr);
    ScopedEnv b("XDG_STATE_HOME", "relative/ignored");
    EXPECT_EQ(StateDir(), "/home/jane/.local/state/runbook");
  }
  {
    ScopedEnv a("RUNBOOK_STATE_DIR", nullptr);
    ScopedEnv b("XDG_STATE_HOME", nullptr);
    EXPECT_EQ(StateDir(), "/home/jane/.local/state/runbook");
  }
}

TEST(StateDirPathTest, Paths) {
  EXPECT_EQ(RunDir("/s", "clone-prod", "20261125T054302Z-3fa9"),
            "/s/clone-prod/runs/20261125T054302Z-3fa9");
  EXPECT_EQ(JournalPath("/s/x/runs/r"), "/s/x/runs/r/journal.jsonl");
  EXPECT_EQ(StepLogPath("/s/x/runs/r", "migrate"), "/s/x/runs/r/logs/migrate.log");
  EXPECT_EQ(LockPath("/s", "clone-prod"), "/s/clone-prod/lock");
}

TEST(StateDirPathTest, RunIds) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795585382999));
  EXPECT_EQ(FormatRunId(t, 0x3fa9), "20261125T054302Z-3fa9");
  EXPECT_EQ(FormatRunId(t, 0x12345), "20261125T054302Z-2345");
  EXPECT_EQ(FormatRunId(t, 7), "20261125T054302Z-0007");
  EXPECT_TRUE(IsRunId("20261125T054302Z-3fa9"));
  EXPECT_TRUE(IsRunId(NewRunId()));
  EXPECT_FALSE(IsRunId("20261125T054302Z-3FA9"));
  EXPECT_FALSE(IsRunId("20261125T054302Z-3fa"));
  EXPECT_FALSE(IsRunId("20261125X054302Z-3fa9"));
  EXPECT_FALSE(IsRunId("tmp"));
  // Ids sort by time.
  auto later = t + std::chrono::seconds(1);
  EXPECT_LT(FormatRunId(t, 0xffff), FormatRunId(later, 0));
}

TEST(StateDirPathTest, RunbookNames) {
  EXPECT_TRUE(IsValidRunbookName("clone-prod"));
  EXPECT_TRUE(IsValidRunbookName("0day"));
  EXPECT_FALSE(IsValidRunbookName(""));
  EXPECT_FALSE(IsValidRunbookName("-x"));
  EXPECT_FALSE(IsValidRunbookName("../x"));
  EXPECT_FALSE(IsValidRunbookName("Clone"));
}

TEST_F(StateDirTest, CreateRunDirMakesPrivateUniqueDirectories) {
  const std::string state = dir_ + "/deep/state";
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {  // many in the same second: ids must still differ
    auto run = CreateRunDir(state, "clone-prod");
    ASSERT_TRUE(run.ok()) << run.message();
    EXPECT_TRUE(ids.insert(run->run_id).second);
    EXPECT_EQ(run->name, "clone-prod");
    EXPECT_EQ(run->dir, RunDir(state, "clone-prod", run->run_id));
    EXPECT_EQ(run->journal, run->dir + "/journal.jsonl");
    EXPECT_TRUE(fs::is_directory(run->dir + "/logs"));
    EXPECT_FALSE(fs::exists(run->journal)) << "the journal is Journal::Create's job";
  }
  EXPECT_EQ(Mode(dir_ + "/deep"), 0700u);
  EXPECT_EQ(Mode(state), 0700u);
  EXPECT_EQ(Mode(state + "/clone-prod/runs"), 0700u);
  EXPECT_EQ(Mode(RunDir(state, "clone-prod", *ids.begin())), 0700u);
}

TEST_F(StateDirTest, CreateRunDirRefusesBadNames) {
  auto run = CreateRunDir(dir_, "../escape");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.message(), "invalid runbook name '../escape' for the state directory");
}

TEST_F(StateDirTest, MakeDirsRefusesAFileInTheWay) {
  ASSERT_TRUE(MakeDirs(dir_ + "/a").ok());
  fclose(fopen((dir_ + "/a/file").c_str(), "w"));
  Status s = MakeDirs(dir_ + "/a/file/b");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot create directory " + dir_ + "/a/file: not a directory");
}

TEST_F(StateDirTest, ListFindLatest) {
  EXPECT_TRUE(ListRuns(dir_ + "/missing", "").empty());
  EXPECT_FALSE(LatestRun(dir_, "clone-prod").has_value());
  for (const auto& [name, id] :
       std::vector<std::pair<std::string, std::string>>{{"clone-prod", "20261125T054302Z-3fa9"},
                                                        {"clone-prod", "20261124T000000Z-0000"},
                                                        {"reindex", "20261125T010000Z-aaaa"},
                                                        {"clone-prod", "not-a-run"}}) {
    fs::create_directories(RunDir(dir_, name, id));
    std::ofstream(JournalPath(RunDir(dir_, name, id))) << "record\n";
  }
  fs::create_directories(dir_ + "/Not_A_Runbook/runs/20261125T010000Z-bbbb");
  // A run directory whose engine died before creating the journal is not a run.
  fs::create_directories(RunDir(dir_, "clone-prod", "20261126T000000Z-dead"));

  std::vector<RunInfo> all = ListRuns(dir_, "");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].run_id, "20261124T000000Z-0000");
  EXPECT_EQ(all[1].run_id, "20261125T010000Z-aaaa");
  EXPECT_EQ(all[1].name, "reindex");
  EXPECT_EQ(all[2].run_id, "20261125T054302Z-3fa9");
  EXPECT_EQ(all[2].journal, RunDir(dir_, "clone-prod", all[2].run_id) + "/journal.jsonl");

  EXPECT_EQ(ListRuns(dir_, "clone-prod").size(), 2u);
  EXPECT_EQ(LatestRun(dir_, "clone-prod")->run_id, "20261125T054302Z-3fa9");
  EXPECT_EQ(LatestRun(dir_, "reindex")->run_id, "20261125T010000Z-aaaa");

  auto found = FindRun(dir_, "20261125T010000Z-aaaa");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "reindex");
  EXPECT_FALSE(FindRun(dir_, "20261125T010000Z-cccc").has_value());
  EXPECT_FALSE(FindRun(dir_, "not-a-run").has_value());
}

// Issue 15: two runs started in the same second are ordered by the ms of their run_started, not
// by their ids' random suffixes; a run whose first record cannot be read falls back to its id's
// second.
TEST_F(StateDirTest, RunsAreOrderedByStartTimeToTheMillisecond) {
  auto write_run = [&](const std::string& id, const std::string& ts) {
    fs::create_directories(RunDir(dir_, "clone-prod", id));
    std::ofstream(JournalPath(RunDir(dir_, "clone-prod", id)))
        << EncodeJournalLine({{"type", "run_started"}, {"seq", 1}, {"format", 1}, {"ts", ts}});
  };
  write_run("20261125T054302Z-ffff", "2026-11-25T05:43:02.100Z");  // started first
  write_run("20261125T054302Z-0000", "2026-11-25T05:43:02.900Z");  // the same second, later
  write_run("20261125T054301Z-9999", "2026-11-25T05:43:01.999Z");
  // Damaged from its first byte: ordered at the start of the second its id names.
  fs::create_directories(RunDir(dir_, "clone-prod", "20261125T054302Z-aaaa"));
  std::ofstream(JournalPath(RunDir(dir_, "clone-prod", "20261125T054302Z-aaaa")))
      << std::string(64, '\0');

  std::vector<RunInfo> runs = ListRuns(dir_, "clone-prod");
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].run_id, "20261125T054301Z-9999");
  EXPECT_EQ(runs[1].run_id, "20261125T054302Z-aaaa");
  EXPECT_EQ(runs[2].run_id, "20261125T054302Z-ffff");
  EXPECT_EQ(runs[3].run_id, "20261125T054302Z-0000");
  EXPECT_EQ(runs[2].started_ms, *ParseTimestampMs("2026-11-25T05:43:02.100Z"));
  EXPECT_EQ(runs[1].started_ms, *ParseTimestampMs("2026-11-25T05:43:02Z"));
  EXPECT_EQ(LatestRun(dir_, "clone-prod")->run_id, "20261125T054302Z-0000");
}

TEST_F(StateDirTest, DirectoriesOthersCanWriteAreRefusedWithTheirPath) {
  const std::string runbook = dir_ + "/clone-prod";
  ASSERT_EQ(mkdir(runbook.c_str(), 0700), 0);
  EXPECT_TRUE(CheckStateDir(runbook, 1).ok());
  EXPECT_TRUE(CheckStateDir(runbook + "/runs/missing", 2).ok()) << "missing ones are created 0700";
  ASSERT_EQ(chmod(runbook.c_str(), 0777), 0);
  Status st = CheckStateDir(runbook, 1);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("state directory " + runbook + " is writable by others (mode 0777)"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(CreateRunDir(dir_, "clone-prod").ok());
  ASSERT_EQ(chmod(runbook.c_str(), 0720), 0);
  EXPECT_NE(CheckStateDir(runbook, 1).message().find("writable by its group"), std::string::npos);
  ASSERT_EQ(chmod(runbook.c_str(), 0700), 0);
  // A symlink in place of a directory below the root is not followed.
  fs::create_directory_symlink(runbook, dir_ + "/other");
  EXPECT_NE(CheckStateDir(dir_ + "/other", 1).message().find("is not a directory"),
            std::string::npos);
}

TEST(StateDirPathTest, StepIds) {
  EXPECT_TRUE(IsStepId("dump-prod_2"));
  EXPECT_FALSE(IsStepId(""));
  EXPECT_FALSE(IsStepId("../../../../var/log/dpkg"));
  EXPECT_FALSE(IsStepId("-x"));
  EXPECT_FALSE(IsStepId("a/b"));
  EXPECT_FALSE(IsStepId("Upper"));
}

}  // namespace
}  // namespace runbook
