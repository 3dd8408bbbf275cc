// The multiplexing client against a fake master on a unix socket: framing, descriptor passing,
// the master's error replies, stop by end of input. tests/integration/ssh_test.cc runs it against
// a real OpenSSH master.
#include "engine/ssh_mux.h"
#include "tests/support/out_err_sink.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runbook {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::OutErrSink;
using namespace std::chrono_literals;

bool ReadExactly(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

unsigned U32At(const std::string& s, size_t at) {
  unsigned v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// A packet body, or "" when the connection ended.
std::string ReadPacket(int fd) {
  char len[4];
  if (!ReadExactly(fd, len, 4)) return "";
  std::string body(U32At(std::string(len, 4), 0), '\0');
  if (!ReadExactly(fd, body.data(), body.size())) return "";
  return body;
}

int ReceiveFd(int sock) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(sock, &msg, 0) != 1) return -1;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
  return fd;
}

void Send(int fd, const std::string& body) {
  std::string packet = MuxPacket(body);
  ASSERT_EQ(write(fd, packet.data(), packet.size()), static_cast<ssize_t>(packet.size()));
}

std::string Body(std::initializer_list<unsigned> words, const std::string* text = nullptr) {
  std::string b;
  for (unsigned w : words) MuxPutU32(&b, w);
  if (text != nullptr) MuxPutString(&b, *text);
  return b;
}

void WriteAll(int fd, const std::string& s) {
  ASSERT_EQ(write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

// Reads fd until end of file (or 5 s without data).
std::string ReadToEnd(int fd) {
  std::string all;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return all + "<no end>";
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return all;
    all.append(buf, static_cast<size_t>(n));
  }
}

// One accepted client: the fake master's side after the hellos and the session request.
struct Client {
  int sock = -1;
  std::string request;  // the MUX_C_NEW_SESSION body
  int in = -1, out = -1, err = -1;
  void CloseAll() {
    for (int* fd : {&sock, &in, &out, &err}) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
};

class FakeMaster {
 public:
  FakeMaster() {
    char tmpl[] = "/tmp/runbook-mux-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/ctl";
    listener_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path_.c_str());
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listener_, 4), 0);
  }
  ~FakeMaster() {
    if (thread_.joinable()) thread_.join();
    close(listener_);
    std::filesystem::remove_all(dir_);
  }

  // Serves one client: hellos (the master's with `version`), then the session request and its
  // three descriptors, then `script`.
  void Serve(std::function<void(Client&)> script, unsigned version = kMuxVersion) {
    thread_ = std::thread([this, script, version] {
      Client c;
      c.sock = accept(listener_, nullptr, nullptr);
      std::string hello = ReadPacket(c.sock);
      client_hello = hello;
      Send(c.sock, Body({kMuxHello, version}));
      c.request = ReadPacket(c.sock);
      if (!c.request.empty()) {
        c.in = ReceiveFd(c.sock);
        c.out = ReceiveFd(c.sock);
        c.err = ReceiveFd(c.sock);
      }
      script(c);
      c.CloseAll();
    });
  }
  void Join() { thread_.join(); }

  const std::string& path() const { return path_; }
  std::string client_hello;

 private:
  std::string dir_;
  std::string path_;
  int listener_ = -1;
  std::thread thread_;
};

MuxSessionSpec Spec(const std::string& command) {
  MuxSessionSpec spec;
  spec.command = command;
  spec.timeout = 10s;
  spec.kill_grace = 1s;
  return spec;
}

TEST(MuxFramingTest, NewSessionRequestIsSshsLayout) {
  std::string b = MuxNewSessionBody(5, "echo hi");
  // type, request id, reserved "", tty 0, X11 0, agent 0, subsystem 0, escape none, TERM "", cmd
  std::string expected = std::string("\x10\x00\x00\x02", 4) + std::string("\0\0\0\5", 4) +
                         std::string(4, '\0') + std::string(16, '\0') + "\xff\xff\xff\xff" +
                         std::string(4, '\0') + std::string("\0\0\0\7", 4) + "echo hi";
  EXPECT_EQ(b, expected);
  EXPECT_EQ(MuxPacket("abc"), std::string("\0\0\0\3abc", 7));
}

TEST(MuxSessionTest, OutputInputAndExitStatusRoundTrip) {
  FakeMaster master;
  std::atomic<bool> request_received{false};
  std::string request, input;
  master.Serve([&](Client& c) {
    request = c.request;
    request_received = c.in >= 0 && c.out >= 0 && c.err >= 0;
    WriteAll(c.out, "out1\nout2");
    WriteAll(c.err, "err1\n");
    Send(c.sock, Body({kMuxSessionOpened, 0, 7}));
    input.resize(5);
    if (!ReadExactly(c.in, input.data(), input.size())) input = "<short>";
    Send(c.sock, Body({kMuxExitMessage, 7, 3}));
  });
  MuxSessionSpec spec = Spec("the command");
  spec.stdin_data = "A=1\n\n";
  // The input waits for before_input, which runs once the request is with the master.
  bool request_first = false;
  spec.before_input = [&] {
    for (int i = 0; i < 250 && !request_received; ++i) std::this_thread::sleep_for(20ms);
    request_first = request_received;
    return Status::Ok();
  };
  OutErrSink sink;
  MuxSessionResult r = RunMuxSession(master.path(), spec, &sink, CancelToken());
  master.Join();
  EXPECT_FALSE(r.unavailable) << r.message;
  EXPECT_TRUE(r.input_allowed);
  EXPECT_TRUE(r.result.started);
  EXPECT_EQ(r.result.exit_code, 3);
  EXPECT_EQ(r.result.Describe(), "exit 3");
  EXPECT_TRUE(request_first);
  EXPECT_EQ(master.client_hello, Body({kMuxHello, kMuxVersion}));
  EXPECT_EQ(request, MuxNewSessionBody(0, "the command"));
  EXPECT_EQ(input, "A=1\n\n");
  EXPECT_THAT(sink.out, ElementsAre("out1", "out2"));
  EXPECT_THAT(sink.err, ElementsAre("err1"));
}

TEST(MuxSessionTest, SecretsAreMaskedInOutput) {
  FakeMaster master;
  master.Serve([&](Client& c) {
    Send(c.sock, Body({kMuxSessionOpened, 0, 1}));
    WriteAll(c.out, "token=s3cret\n");
    WriteAll(c.err, "s3cret\n");
    Send(c.sock, Body({kMuxExitMessage, 1, 0}));
  });
  MuxSessionSpec spec = Spec("cmd");
  spec.redact = {"s3cret"};
  OutErrSink sink;
  MuxSessionResult r = RunMuxSession(master.path(), spec, &sink, CancelToken());
  master.Join();
  EXPECT_TRUE(r.result.ok()) << r.result.Describe() << r.message;
  EXPECT_THAT(sink.out, ElementsAre("token=***"));
  EXPECT_THAT(sink.err, ElementsAre("***"));
}

TEST(MuxSessionTest, BeforeInputErrorAbandonsTheSessionWithoutInput) {
  FakeMaster master;
  std::string input;
  master.Serve([&](Client& c) { input = ReadToEnd(c.in); });
  MuxSessionSpec spec = Spec("cmd");
  spec.stdin_data = "A=1\n\n";
  spec.before_input = [] { return Status::Error("journal: disk full"); };
  MuxSessionResult r = RunMuxSession(master.path(), spec, nullptr, CancelToken());
  master.Join();
  EXPECT_FALSE(r.unavailable);
  EXPECT_FALSE(r.input_allowed);
  EXPECT_EQ(r.result.error, "journal: disk full");
  EXPECT_FALSE(r.result.ok());
  EXPECT_EQ(input, "");  // the input ended without the go-ahead
}

TEST(MuxSessionTest, RefusedSessionIsUnavailable) {
  FakeMaster master;
  master.Serve([&](Client& c) {
    std::string why = "Session open refused by peer";
    Send(c.sock, Body({kMuxFailure, 0}, &why));
  });
  MuxSessionSpec spec = Spec("cmd");
  int calls = 0;
  spec.before_input = [&] {
    ++calls;
    return Status::Ok();
  };
  MuxSessionResult r = RunMuxSession(master.path(), spec, nullptr, CancelToken());
  master.Join();
  EXPECT_TRUE(r.unavailable);
  EXPECT_FALSE(r.result.started);
  EXPECT_THAT(r.message, HasSubstr("refused the session: Session open refused by peer"));
  EXPECT_TRUE(r.input_allowed);  // a fallback must not call before_input again
  EXPECT_EQ(calls, 1);
}

TEST(MuxSessionTest, MasterGoneAfterTheRequestIsNotRunAgain) {
  FakeMaster master;
  std::string request;
  master.Serve([&](Client& c) { request = c.request; });  // closes without "session opened"
  MuxSessionResult r = RunMuxSession(master.path(), Spec("cmd"), nullptr, CancelToken());
  master.Join();
  EXPECT_NE(request, "");       // the master took the request: the command may have started
  EXPECT_FALSE(r.unavailable);  // so the caller must not fall back to a connection of its own
  EXPECT_TRUE(r.result.started);
  EXPECT_EQ(r.result.exit_code, 255);
  EXPECT_THAT(r.message, HasSubstr("the command may have started, so it is not run again"));
}

TEST(MuxSessionTest, OtherProtocolVersionIsUnavailable) {
  FakeMaster master;
  std::string request = "<not read>";
  master.Serve([&](Client& c) { request = c.request; }, 3);
  MuxSessionResult r = RunMuxSession(master.path(), Spec("cmd"), nullptr, CancelToken());
  master.Join();
  EXPECT_TRUE(r.unavailable);
  EXPECT_THAT(r.message, HasSubstr("version 3"));
  EXPECT_EQ(request, "");  // no session was requested
}

TEST(MuxSessionTest, NoMasterIsUnavailable) {
  MuxSessionResult r =
      RunMuxSession("/nonexistent-runbook-dir/ctl", Spec("cmd"), nullptr, CancelToken());
  EXPECT_TRUE(r.unavailable);
  EXPECT_THAT(r.message, HasSubstr("no master at /nonexistent-runbook-dir/ctl"));
}

TEST(MuxSessionTest, MasterGoneMidSessionLeavesNoExitStatus) {
  FakeMaster master;
  master.Serve([&](Client& c) {
    Send(c.sock, Body({kMuxSessionOpened, 0, 1}));
    WriteAll(c.out, "partial\n");
  });  // then everything closes, as when the master dies
  OutErrSink sink;
  MuxSessionResult r = RunMuxSession(master.path(), Spec("cmd"), &sink, CancelToken());
  master.Join();
  EXPECT_FALSE(r.unavailable);
  EXPECT_EQ(r.result.exit_code, 255);
  EXPECT_FALSE(r.result.timed_out);
  EXPECT_THAT(r.message, HasSubstr("without the command's exit status"));
  EXPECT_THAT(sink.out, ElementsAre("partial"));
}

TEST(MuxSessionTest, TimeoutEndsTheSessionInput) {
  FakeMaster master;
  std::string input;
  master.Serve([&](Client& c) {
    Send(c.sock, Body({kMuxSessionOpened, 0, 1}));
    WriteAll(c.out, "started\n");
    input = ReadToEnd(c.in);  // the remote side stops the command at end of input
  });
  MuxSessionSpec spec = Spec("cmd");
  spec.stdin_data = "A=1\n\n";
  spec.timeout = 300ms;
  OutErrSink sink;
  MuxSessionResult r = RunMuxSession(master.path(), spec, &sink, CancelToken());
  master.Join();
  EXPECT_TRUE(r.result.timed_out);
  EXPECT_EQ(r.result.Describe(), "timed out after 300ms (killed)");
  EXPECT_EQ(input, "A=1\n\n");
  EXPECT_LT(r.result.elapsed, 3s);
  EXPECT_THAT(sink.out, ElementsAre("started"));
}

TEST(MuxSessionTest, CancelEndsTheSessionInput) {
  FakeMaster master;
  std::string input;
  master.Serve([&](Client& c) {
    Send(c.sock, Body({kMuxSessionOpened, 0, 1}));
    input = ReadToEnd(c.in);
    Send(c.sock, Body({kMuxExitMessage, 1, 143}));
  });
  std::atomic<bool> flag{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    flag = true;
  });
  MuxSessionResult r = RunMuxSession(master.path(), Spec("cmd"), nullptr, CancelToken(&flag));
  canceller.join();
  master.Join();
  EXPECT_TRUE(r.result.cancelled);
  EXPECT_EQ(r.result.Describe(), "cancelled (killed)");
  EXPECT_EQ(input, "");
  EXPECT_LT(r.result.elapsed, 3s);
}

TEST(MuxSessionTest, SessionThatDoesNotEndAfterAStopIsLeftAfterTheGrace) {
  FakeMaster master;
  std::string rest;
  master.Serve([&](Client& c) {
    Send(c.sock, Body({kMuxSessionOpened, 0, 1}));
    ReadToEnd(c.in);
    rest = ReadToEnd(c.sock);  // the client closes the control connection
  });
  MuxSessionSpec spec = Spec("cmd");
  spec.timeout = 100ms;
  spec.kill_grace = 0ms;
  MuxSessionResult r = RunMuxSession(master.path(), spec, nullptr, CancelToken());
  master.Join();
  EXPECT_TRUE(r.result.timed_out);
  EXPECT_EQ(rest, "");  // closed, not left open
  EXPECT_GT(r.result.elapsed, 1500ms);
  EXPECT_LT(r.result.elapsed, 4s);
}

}  // namespace
}  // namespace runbook
