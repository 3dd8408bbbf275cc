// A conninfo template resolved keyword by keyword (engine/pg_conninfo.h), end to end through the
// real binary: a param that tries to add a keyword (`db = 'x host=127.0.0.1 port=N'`) must not
// redirect the connection, and the database's password must never reach a server it names. The
// would-be attacker's server is a small listener here that asks for a password and records any it
// receives; the legitimate case runs against the real test cluster.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/pg_harness.h"

namespace runbook {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Pg;

// Speaks just enough of the PostgreSQL protocol to be asked for a password: declines SSL and
// GSSAPI encryption, answers the startup message with AuthenticationCleartextPassword and records
// the payload of every password message ('p'). Counts the connections it accepted.
class FakePgServer {
 public:
  FakePgServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakePgServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }
  std::vector<std::string> passwords() {
    std::lock_guard<std::mutex> lock(mu_);
    return passwords_;
  }

 private:
  static bool ReadFull(int fd, char* buf, size_t n) {
    while (n > 0) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      ssize_t r = read(fd, buf, n);
      if (r <= 0) return false;
      buf += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  static uint32_t BigEndian(const char* b) {
    return (uint32_t{static_cast<unsigned char>(b[0])} << 24) |
           (uint32_t{static_cast<unsigned char>(b[1])} << 16) |
           (uint32_t{static_cast<unsigned char>(b[2])} << 8) | static_cast<unsigned char>(b[3]);
  }

  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      Talk(c);
      close(c);
    }
  }

  void Talk(int c) {
    char head[8];
    while (true) {  // the startup packet, after any SSL / GSSENC requests
      if (!ReadFull(c, head, 8)) return;
      const uint32_t len = BigEndian(head);
      const uint32_t code = BigEndian(head + 4);
      if (len < 8 || len > 10000) return;
      std::string rest(len - 8, '\0');
      if (!ReadFull(c, rest.data(), rest.size())) return;
      if (code == 80877103 || code == 80877104) {  // SSLRequest, GSSENCRequest
        if (write(c, "N", 1) != 1) return;
        continue;
      }
      break;
    }
    const char ask[] = {'R', 0, 0, 0, 8, 0, 0, 0, 3};  // AuthenticationCleartextPassword
    if (write(c, ask, sizeof ask) != static_cast<ssize_t>(sizeof ask)) return;
    char type;
    char len[4];
    if (!ReadFull(c, &type, 1) || !ReadFull(c, len, 4)) return;
    const uint32_t n = BigEndian(len);
    if (n < 4 || n > 10000) return;
    std::string body(n - 4, '\0');
    if (!ReadFull(c, body.data(), body.size())) return;
    if (type == 'p') {
      std::lock_guard<std::mutex> lock(mu_);
      passwords_.push_back(body.c_str());
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<std::string> passwords_;
  std::thread thread_;
};

struct Outcome {
  int exit_code = -1;
  std::string output;
};

class ConninfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/runbook-conninfo-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = testing::CreateTestDb();
    // Each test its own runbook name: ctest runs the two at once against one server, and runs of
    // one name share a lock on it (docs/team.md).
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // pwuser must give its password over TCP (tests/harness/pg_cluster.sh).
    std::ofstream(dir_ + "/rb.yaml") << "name: conninfo-" << name
                                     << "\n"
                                        "secrets:\n"
                                        "  pw: {env: RB_TEST_PG_PASSWORD}\n"
                                        "params:\n"
                                        "  db: {type: string}\n"
                                        "databases:\n"
                                        "  app:\n"
                                        "    conninfo: \"host=127.0.0.1 port="
                                     << Pg().port
                                     << " user=pwuser dbname=${{ params.db }}\"\n"
                                        "    password: \"${{ secrets.pw }}\"\n"
                                        "steps:\n"
                                        "  - id: ask\n"
                                        "    sql:\n"
                                        "      db: app\n"
                                        "      query: select 'answer:' || current_database()\n"
                                        "      show: table\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `runbook COMMAND rb.yaml --set db=VALUE`, its stdout and stderr.
  Outcome Runbook(const std::string& command, const std::string& db) {
    const std::string out = dir_ + "/out";
    std::string quoted;
    for (char c : "db=" + db) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    const std::string cmd = "RB_TEST_PG_PASSWORD=pw-secret RUNBOOK_STATE_DIR='" + dir_ +
                            "/state' '" + RUNBOOK_BINARY + "' " + command + " '" + dir_ +
                            "/rb.yaml' --set '" + quoted + "' --yes >'" + out + "' 2>&1";
    Outcome r;
    const int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    r.output.assign(std::istreambuf_iterator<char>(in), {});
    return r;
  }

  std::string dir_;
  std::string db_;
};

TEST_F(ConninfoTest, AValueCannotAddAKeyword) {
  FakePgServer fake;
  const std::string injected = db_ + " host=127.0.0.1 port=" + std::to_string(fake.port());
  Outcome r = Runbook("run", injected);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // The whole value is the database name, on the real server, which has no such database.
  EXPECT_THAT(r.output, HasSubstr("does not exist")) << r.output;
  EXPECT_THAT(r.output, Not(HasSubstr("pw-secret")));
  EXPECT_EQ(fake.connections(), 0);
  EXPECT_TRUE(fake.passwords().empty()) << "the password reached the injected server";

  // Nor through a URI in the value, nor a quoted value breaking out of its quotes.
  for (const std::string& value :
       {"postgresql://pwuser@127.0.0.1:" + std::to_string(fake.port()) + "/" + db_,
        "x' host='127.0.0.1' port='" + std::to_string(fake.port())}) {
    Outcome again = Runbook("run --fresh", value);
    EXPECT_EQ(again.exit_code, 1) << again.output;
  }
  EXPECT_EQ(fake.connections(), 0);
  EXPECT_TRUE(fake.passwords().empty()) << "the password reached the injected server";
}

TEST_F(ConninfoTest, TheLegitimateValueConnects) {
  Outcome r = Runbook("run", db_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("answer:" + db_));
  EXPECT_THAT(r.output, Not(HasSubstr("pw-secret")));
}

}  // namespace
}  // namespace runbook
