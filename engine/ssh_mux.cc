// The multiplexing client: one poll loop per session over the control connection and the pipes.
#include "engine/ssh_mux.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "engine/fd.h"
#include "engine/line_splitter.h"

namespace runbook {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long the master may take to answer the hello (it answers at once unless it is stuck).
constexpr Duration kHelloTimeout = 10s;
// After a stop, the remote side gets the kill grace plus this to end the session.
constexpr Duration kStopSlack = 2s;
// Output still arriving after the control connection closed gets this long.
constexpr Duration kDrainGrace = 1s;
constexpr Duration kPollSlice = 25ms;  // the cancel flag is polled this often
// Packets are small (an exit status); anything bigger is not a master talking.
constexpr size_t kMaxPacket = 256 * 1024;

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// One fd with one byte of data, as OpenSSH's mm_send_fd (monitor_fdpass.c) sends it.
Status SendFd(int sock, int fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  while (true) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n == 1) return Status::Ok();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{sock, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    return Status::Error("passing a descriptor: " + ErrnoText(n < 0 ? errno : EPIPE));
  }
}

Status WriteAll(int sock, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(sock, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{sock, POLLOUT, 0};
      poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) return Status::Error(ErrnoText(n < 0 ? errno : EPIPE));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads a packet body's fields in order.
class BodyReader {
 public:
  explicit BodyReader(std::string_view body) : body_(body) {}
  bool U32(unsigned* v) {
    if (body_.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<unsigned char>(body_[i]);
    body_.remove_prefix(4);
    return true;
  }
  bool String(std::string* s) {
    unsigned n;
    if (!U32(&n) || body_.size() < n) return false;
    *s = std::string(body_.substr(0, n));
    body_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view body_;
};

// Collects the bytes of the control connection and cuts them into packet bodies.
class PacketBuffer {
 public:
  void Append(std::string_view data) { buf_.append(data); }
  // The next complete body, if any; an error for a length no master sends.
  Result<std::optional<std::string>> Next() {
    using R = Result<std::optional<std::string>>;
    unsigned len;
    if (!BodyReader(buf_).U32(&len)) return std::optional<std::string>();
    if (len > kMaxPacket) return R::Error("a packet of " + std::to_string(len) + " bytes");
    if (buf_.size() < 4 + static_cast<size_t>(len)) return std::optional<std::string>();
    std::string body = buf_.substr(4, len);
    buf_.erase(0, 4 + len);
    return std::optional<std::string>(std::move(body));
  }

 private:
  std::string buf_;
};

std::string Hex(unsigned v) {
  char s[16];
  snprintf(s, sizeof s, "0x%08x", v);
  return s;
}

// A refusal's text (MUX_S_FAILURE and MUX_S_PERMISSION_DENIED carry one after the request id).
std::string Refusal(BodyReader& r) {
  unsigned rid;
  std::string text;
  if (!r.U32(&rid) || !r.String(&text)) return "(no reason given)";
  return text;
}

class Session {
 public:
  Session(const MuxSessionSpec& spec, OutputSink* out, const CancelToken& cancel)
      : spec_(spec),
        cancel_(cancel),
        secrets_(RedactionOrder(spec.redact)),
        out_lines_(Stream::kStdout, out, &secrets_),
        err_lines_(Stream::kStderr, out, &secrets_) {}

  MuxSessionResult Run(const std::string& control_path) {
    MuxSessionResult r;
    if (Status st = Open(control_path); !st.ok()) {
      r.unavailable = true;
      r.message = st.message();
      return r;
    }
    // The session request: the body, then the three fds.
    Pipe in, out, err;
    for (Pipe* p : {&in, &out, &err}) {
      if (Status st = MakePipe(p); !st.ok()) {
        r.unavailable = true;
        r.message = st.message();
        return r;
      }
    }
    Status sent = WriteAll(sock_.get(), MuxPacket(MuxNewSessionBody(0, spec_.command)));
    if (sent.ok()) sent = SendFd(sock_.get(), in.read.get());
    if (sent.ok()) sent = SendFd(sock_.get(), out.write.get());
    if (sent.ok()) sent = SendFd(sock_.get(), err.write.get());
    if (!sent.ok()) {
      r.unavailable = true;
      r.message = "the master did not take the session request: " + sent.message();
      return r;
    }
    // The master has its copies; ours of its ends must go, or the output would never end.
    in.read.reset();
    out.write.reset();
    err.write.reset();
    in_.reset(in.write.release());
    out_.reset(out.read.release());
    err_.reset(err.read.release());
    r.result.started = true;
    if (spec_.before_input) {
      if (Status st = spec_.before_input(); !st.ok()) {
        r.result.error = st.message();
        return r;  // our ends close: the remote side sees its input end before the go-ahead
      }
    }
    r.input_allowed = true;
    pending_input_ = spec_.stdin_data;
    for (int fd : {in_.get(), out_.get(), err_.get(), sock_.get()}) SetNonBlocking(fd);
    Loop(&r);
    return r;
  }

 private:
  // Connects and exchanges hellos.
  Status Open(const std::string& control_path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (control_path.size() >= sizeof addr.sun_path) return Status::Error("socket path too long");
    memcpy(addr.sun_path, control_path.c_str(), control_path.size() + 1);
    sock_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock_.open()) return Status::Error("socket: " + ErrnoText(errno));
    if (connect(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return Status::Error("no master at " + control_path + ": " + ErrnoText(errno));
    }
    std::string hello;
    MuxPutU32(&hello, kMuxHello);
    MuxPutU32(&hello, kMuxVersion);
    if (Status st = WriteAll(sock_.get(), MuxPacket(hello)); !st.ok()) {
      return Status::Error("hello to the master: " + st.message());
    }
    SetNonBlocking(sock_.get());
    const auto limit = Clock::now() + kHelloTimeout;
    while (true) {
      auto body = packets_.Next();
      if (!body.ok()) return Status::Error("hello from the master: " + body.message());
      if (body->has_value()) {
        BodyReader reader(**body);
        unsigned type, version;
        if (!reader.U32(&type) || type != kMuxHello || !reader.U32(&version)) {
          return Status::Error("the master's first message is not a hello");
        }
        if (version != kMuxVersion) {
          return Status::Error("the master speaks multiplexing protocol version " +
                               std::to_string(version) + ", not " + std::to_string(kMuxVersion));
        }
        return Status::Ok();  // extensions (name, value pairs) follow; none is used
      }
      if (Clock::now() > limit) return Status::Error("the master did not answer the hello");
      if (cancel_.requested()) return Status::Error("cancelled");
      pollfd p{sock_.get(), POLLIN, 0};
      poll(&p, 1, static_cast<int>(kPollSlice.count()));
      if (Status st = ReadSocket(); !st.ok()) return Status::Error("hello: " + st.message());
      if (!sock_open_) return Status::Error("the master closed the connection at the hello");
    }
  }

  // Appends what the control connection has to the packet buffer; notes its end.
  Status ReadSocket() {
    std::array<char, 4096> buf;
    while (sock_open_) {
      ssize_t n = read(sock_.get(), buf.data(), buf.size());
      if (n > 0) {
        packets_.Append(std::string_view(buf.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return Status::Ok();
      sock_open_ = false;
      sock_closed_at_ = Clock::now();
      if (n < 0) return Status::Error(ErrnoText(errno));
    }
    return Status::Ok();
  }

  // Reads one pipe's available output into its splitter; closes it at end of stream.
  static void ReadPipe(Fd* fd, LineSplitter* lines) {
    std::array<char, 65536> buf;
    while (true) {
      ssize_t n = read(fd->get(), buf.data(), buf.size());
      if (n > 0) {
        lines->Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      lines->Finish();
      fd->reset();
      return;
    }
  }

  void WriteInput() {
    while (!pending_input_.empty()) {
      ssize_t n = write(in_.get(), pending_input_.data(), pending_input_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the master let go of the session's input: nothing more to say
        pending_input_.clear();
        return;
      }
      pending_input_.erase(0, static_cast<size_t>(n));
    }
  }

  // Takes the master's messages; false once the session cannot go on (`r` says why).
  bool TakeMessages(MuxSessionResult* r) {
    while (true) {
      auto body = packets_.Next();
      if (!body.ok()) return Broken(r, "unexpected data from the master: " + body.message());
      if (!body->has_value()) return true;
      BodyReader reader(**body);
      unsigned type = 0, id = 0;
      reader.U32(&type);
      if (!opened_) {
        if (type == kMuxSessionOpened && reader.U32(&id) && reader.U32(&session_id_)) {
          opened_ = true;
          continue;
        }
        r->unavailable = true;
        if (type == kMuxFailure || type == kMuxPermissionDenied) {
          r->message = "the master refused the session: " + Refusal(reader);
        } else {
          r->message = "unexpected answer " + Hex(type) + " from the master";
        }
        return false;
      }
      if (type == kMuxExitMessage && reader.U32(&id) && id == session_id_ &&
          reader.U32(&exit_status_)) {
        exit_seen_ = true;
      } else if (type != kMuxTtyAllocFail) {
        return Broken(r, "unexpected message " + Hex(type) + " from the master");
      }
    }
  }

  bool Broken(MuxSessionResult* r, std::string why) {
    r->message = std::move(why);
    return false;
  }

  void Stop() {
    if (stopping_) return;
    stopping_ = true;
    in_.reset();  // end of input: the remote side stops the command's group
    pending_input_.clear();
    stop_limit_ = Clock::now() + spec_.kill_grace + kStopSlack;
  }

  void Loop(MuxSessionResult* r) {
    const auto start = Clock::now();
    const bool has_deadline = spec_.timeout.count() > 0;
    const auto deadline = start + spec_.timeout;
    while (true) {
      const auto now = Clock::now();
      if (!stopping_ && has_deadline && now >= deadline) {
        r->result.timed_out = true;
        Stop();
      }
      if (!stopping_ && cancel_.requested()) {
        r->result.cancelled = true;
        Stop();
      }
      if (exit_seen_ && !out_.open() && !err_.open()) break;
      if (stopping_ && now >= stop_limit_) break;
      if (!sock_open_ &&
          (!opened_ || (!out_.open() && !err_.open()) || now >= sock_closed_at_ + kDrainGrace)) {
        break;
      }

      std::array<pollfd, 4> fds;
      size_t n = 0;
      auto add = [&](int fd, short events) {
        fds[n++] = pollfd{fd, events, 0};
        return &fds[n - 1];
      };
      pollfd* sock = sock_open_ ? add(sock_.get(), POLLIN) : nullptr;
      pollfd* out = out_.open() ? add(out_.get(), POLLIN) : nullptr;
      pollfd* err = err_.open() ? add(err_.get(), POLLIN) : nullptr;
      pollfd* in = in_.open() && !pending_input_.empty() ? add(in_.get(), POLLOUT) : nullptr;
      auto wait = kPollSlice;
      if (has_deadline && !stopping_) {
        wait = std::min(wait, std::chrono::duration_cast<Duration>(deadline - now) + 1ms);
      }
      if (poll(fds.data(), n, static_cast<int>(std::max(wait, Duration(0)).count())) < 0 &&
          errno != EINTR) {
        r->message = "poll: " + ErrnoText(errno);
        break;
      }
      if (in != nullptr && in->revents != 0) WriteInput();
      if (out != nullptr && out->revents != 0) ReadPipe(&out_, &out_lines_);
      if (err != nullptr && err->revents != 0) ReadPipe(&err_, &err_lines_);
      if (sock != nullptr && sock->revents != 0) {
        Status st = ReadSocket();
        if (!TakeMessages(r)) break;
        if (!st.ok()) r->message = "the control connection failed: " + st.message();
      }
    }
    // Whatever is still open closes here: the master then ends the session.
    in_.reset();
    sock_.reset();
    if (out_.open()) out_lines_.Finish();
    if (err_.open()) err_lines_.Finish();
    out_.reset();
    err_.reset();
    if (r->unavailable) {
      r->result.started = false;
      return;
    }
    if (!opened_ && r->message.empty() && !stopping_) {
      // Closed after taking the request and before saying the session opened: the master is
      // gone or broken. It sends the command to the server and its reply to us in one turn of
      // its loop, so the command may have started (seen killed between the two): this is not
      // "unavailable", which would have the caller run it again on a connection of its own.
      r->result.exit_code = 255;
      r->message =
          "the master closed the connection after taking the session request and before the "
          "session opened: the command may have started, so it is not run again";
      return;
    }
    if (exit_seen_) {
      r->result.exit_code = static_cast<int>(exit_status_);
      r->message.clear();
    } else {
      r->result.exit_code = 255;
      if (r->message.empty()) {
        r->message = stopping_ ? "the session was stopped"
                               : "the master connection ended without the command's exit status";
      }
    }
  }

  const MuxSessionSpec& spec_;
  const CancelToken& cancel_;
  const std::vector<std::string> secrets_;
  LineSplitter out_lines_;
  LineSplitter err_lines_;
  Fd sock_;
  Fd in_;
  Fd out_;
  Fd err_;
  PacketBuffer packets_;
  std::string pending_input_;
  bool sock_open_ = true;
  Clock::time_point sock_closed_at_;
  bool opened_ = false;
  unsigned session_id_ = 0;
  bool exit_seen_ = false;
  unsigned exit_status_ = 0;
  bool stopping_ = false;
  Clock::time_point stop_limit_;
};

}  // namespace

void MuxPutU32(std::string* body, unsigned value) {
  for (int shift = 24; shift >= 0; shift -= 8) body->push_back(static_cast<char>(value >> shift));
}

void MuxPutString(std::string* body, const std::string& value) {
  MuxPutU32(body, static_cast<unsigned>(value.size()));
  body->append(value);
}

std::string MuxPacket(const std::string& body) {
  std::string packet;
  MuxPutU32(&packet, static_cast<unsigned>(body.size()));
  return packet + body;
}

std::string MuxNewSessionBody(unsigned request_id, const std::string& command) {
  std::string b;
  MuxPutU32(&b, kMuxNewSession);
  MuxPutU32(&b, request_id);
  MuxPutString(&b, "");       // reserved
  MuxPutU32(&b, 0);           // want tty
  MuxPutU32(&b, 0);           // want X11 forwarding
  MuxPutU32(&b, 0);           // want agent forwarding
  MuxPutU32(&b, 0);           // subsystem
  MuxPutU32(&b, 0xffffffff);  // escape character: none
  MuxPutString(&b, "");       // TERM
  MuxPutString(&b, command);  // no environment variables follow
  return b;
}

MuxSessionResult RunMuxSession(const std::string& control_path, const MuxSessionSpec& spec,
                               OutputSink* out, const CancelToken& cancel) {
  // Writing to a session input the master closed must fail with EPIPE, not kill the engine.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  const auto start = Clock::now();
  MuxSessionResult r = Session(spec, out, cancel).Run(control_path);
  if (spec.timeout.count() > 0) r.result.timeout = spec.timeout;
  r.result.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - start);
  return r;
}

}  // namespace runbook
