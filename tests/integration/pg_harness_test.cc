#include "tests/integration/pg_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

namespace runbook::testing {
namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string Script() {
  return std::string(RUNBOOK_SOURCE_DIR) + "/tests/harness/pg_cluster.sh";
}

PgCluster g_cluster;
bool g_started = false;

// All test processes of a build share one cluster (tests/harness/pg_cluster.sh acquire): ctest
// runs every test in its own process, and a cluster start costs more than most tests. The
// script's watchdog stops it a few seconds after the last test process ended, even if killed.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string build = std::filesystem::path(RUNBOOK_BINARY).parent_path().string();
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(build));
    g_cluster.dir = "/tmp/runbook-pg-" + std::string(hash);  // short: socket paths are limited
    for (int attempt = 0; attempt < 3 && !g_started; ++attempt) {
      const std::string cmd = "PG_TEMPLATE_DIR='" + build + "/pg-template' bash '" + Script() +
                              "' acquire '" + g_cluster.dir + "' " + std::to_string(FreePort()) +
                              " " + std::to_string(getpid());
      FILE* p = popen(cmd.c_str(), "r");
      if (p == nullptr) continue;
      int port = 0;
      const bool read = std::fscanf(p, "%d", &port) == 1;
      g_started = pclose(p) == 0 && read && port > 0;
      g_cluster.port = port;
    }
  }
};

[[maybe_unused]] ::testing::Environment* const g_env =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

const PgCluster& Pg() {
  if (!g_started) ADD_FAILURE() << "the PostgreSQL test cluster did not start";
  return g_cluster;
}

std::unique_ptr<PgConnection> Connect(const std::string& db, const std::string& application) {
  auto c = PgConnection::Connect(Pg().Target(db), application);
  if (!c.ok()) {
    ADD_FAILURE() << c.message();
    return nullptr;
  }
  return std::move(c).value();
}

PgResult MustExec(const std::string& db, const std::string& sql) {
  auto c = Connect(db);
  if (!c) return {};
  Result<PgResult> r = c->Exec(sql);
  if (!r.ok()) {
    ADD_FAILURE() << "SQL failed: " << sql << "\n" << r.message();
    return {};
  }
  return std::move(r).value();
}

std::string CreateTestDb(const std::string& suffix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  name = name.substr(0, 50) + suffix;  // identifiers end at 63 bytes; keep the suffix
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_';
  });
  MustExec("postgres", "DROP DATABASE IF EXISTS " + name);
  MustExec("postgres", "CREATE DATABASE " + name);
  return name;
}

namespace {

TEST(PgHarnessTest, ClusterAnswers) {
  const std::string db = CreateTestDb();
  PgResult r = MustExec(db, "SELECT current_setting('server_version_num')::int / 10000");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][0], std::optional<std::string>("15"));
}

}  // namespace
}  // namespace runbook::testing
