// What a step log holds for the morning after, from the real binary against a real server:
// every line timestamped, each attempt's start and end marked, and a failed SQL statement's
// error (message, position, hint) in the log, not only on the terminal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/pg_harness.h"

namespace runbook {
namespace {

using testing::CreateTestDb;
using ::testing::HasSubstr;
using testing::MustExec;
using testing::Pg;

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(StepLogTest, AFailedSqlStepsErrorIsInItsLogWithEveryAttempt) {
  const std::string db = CreateTestDb();
  MustExec(db, "CREATE TABLE t (name text)");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("rb-steplog-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string conninfo = "host=" + Pg().dir + " port=" + std::to_string(Pg().port) +
                               " dbname=" + db + " user=postgres";
  std::ofstream(dir / "r.yaml") << "name: steplog\n"
                                   "databases:\n  db: {conninfo: \"" +
                                       conninfo +
                                       "\"}\n"
                                       "steps:\n"
                                       "  - id: broken\n"
                                       "    retries: 1\n"
                                       "    sql:\n"
                                       "      db: db\n"
                                       "      query: |\n"
                                       "        CREATE TABLE u (id int);\n"
                                       "        SELECT nme FROM t;\n";
  const std::string cmd = "cd '" + dir.string() + "' && RUNBOOK_STATE_DIR='" + dir.string() +
                          "/state' '" + RUNBOOK_BINARY + "' run r.yaml >out.txt 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1) << ReadAll(dir / "out.txt");

  std::filesystem::path log;
  for (const auto& run : std::filesystem::directory_iterator(dir / "state/steplog/runs")) {
    log = run.path() / "logs/broken.log";
  }
  const std::string text = ReadAll(log);
  // Every line starts with its UTC time to the millisecond.
  std::istringstream lines(text);
  const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z .*)");
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(std::regex_match(line, stamped)) << line;
  }
  EXPECT_GT(count, 6);
  EXPECT_THAT(text, HasSubstr("Z == attempt 1 of 2 started\n"));
  EXPECT_THAT(text, HasSubstr("Z == attempt 2 of 2 started\n"));
  EXPECT_THAT(text,
              HasSubstr("Z == attempt 1 failed: statement 2 of 2 failed: ERROR: column \"nme\" "
                        "does not exist (SQLSTATE 42703)\n"));
  EXPECT_THAT(text, HasSubstr("Z == LINE 2: SELECT nme FROM t\n"));  // where, with a caret
  EXPECT_THAT(text, HasSubstr("Z == HINT: Perhaps you meant to reference the column \"t.name\""));
  // The first statement's result: it ran before the second failed.
  EXPECT_THAT(text, HasSubstr("Z statement 1 of 2: CREATE TABLE\n"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace runbook
