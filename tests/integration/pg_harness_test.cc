#include "tests/integration/pg_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

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

class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/runbook-pg-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    g_cluster.dir = tmpl;
    const std::string template_dir =
        std::filesystem::path(RUNBOOK_BINARY).parent_path().string() + "/pg-template";
    for (int attempt = 0; attempt < 3 && !g_started; ++attempt) {
      g_cluster.port = FreePort();
      const std::string cmd = "PG_TEMPLATE_DIR='" + template_dir + "' bash '" + Script() +
                              "' start '" + g_cluster.dir + "' " + std::to_string(g_cluster.port) +
                              " " + std::to_string(getpid());
      g_started = std::system(cmd.c_str()) == 0;
    }
  }
  void TearDown() override {
    if (g_cluster.dir.empty()) return;
    const std::string cmd = "bash '" + Script() + "' stop '" + g_cluster.dir + "'";
    (void)std::system(cmd.c_str());
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
