#include "node/tls_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace remex::node {

namespace {

using caf::io::network::operation;
using caf::io::network::rw_state;

std::atomic<void (*)(const std::string&)> refusal_sink{nullptr};

// OpenSSL writes with write(2), and a peer gone away would raise SIGPIPE
// in a process (another CAF client) that did not ignore it. Blocked on the
// multiplexer thread, the signal stays pending there, harmless.
void block_sigpipe_on_this_thread() {
  thread_local bool blocked = false;
  if (blocked) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  blocked = true;
}

std::string peer_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string{host} + ":" + std::to_string(port);
}

}  // namespace

void set_tls_refusal_sink(void (*sink)(const std::string& line)) {
  refusal_sink = sink;
}

tls_stream::tls_stream(caf::io::network::default_multiplexer& mpx,
                       caf::io::network::native_socket fd, SSL* ssl,
                       bool accepted, handshake_deadlines& deadlines,
                       caf::io::network::stream_manager* owner)
    : stream(mpx, fd),
      ssl_(ssl),
      accepted_(accepted),
      deadlines_(deadlines),
      owner_(owner) {
  SSL_set_fd(ssl_, fd);
  if (accepted_)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

tls_stream::~tls_stream() {
  SSL_free(ssl_);
}

void tls_stream::launch() {
  start(owner_);
  // The first step: a client's hello goes out, a server waits for one.
  force_empty_write(owner_);
  deadlines_.watch(this, handshake_deadline());
}

void tls_stream::handle_event(operation op) {
  block_sigpipe_on_this_thread();
  if (handshaking_ && !failed_ && op != operation::propagate_error) {
    switch (handshake()) {
      case step::want_read:
        if (op == operation::read) return;
        if (!reading_over_) {
          pause_writing();
          return;
        }
        // Nothing will be read any more: this handshake cannot finish.
        failed_ = true;
        break;
      case step::want_write:
        resume_writing();
        if (!state_.writing) force_empty_write(owner_);
        return;
      case step::failed:
        // Reported to the manager below, through the policy.
        break;
      case step::done:
        end_handshake();
        resume_writing();
        break;
    }
  } else if (op == operation::read) {
    // Whatever TLS waited for before it could write may be here now.
    resume_writing();
  }
  handle_event_impl(op, policy_);
}

void tls_stream::removed_from_loop(operation op) {
  // Letting go of the reader or writer may drop the last reference to the
  // scribe, and this stream with it: not before this function is done.
  caf::intrusive_ptr<caf::io::network::stream_manager> keep{owner_};
  // A pause is ours, not the end of writing.
  if (op == operation::write && write_paused_ && !reading_over_) return;
  stream::removed_from_loop(op);
  if (op != operation::read) return;
  reading_over_ = true;
  // Reading is over: nothing will resume writing, and the writer we kept
  // (our own manager) must go, or it would keep this stream alive.
  end_handshake();
  if (write_paused_) {
    write_paused_ = false;
    stream::removed_from_loop(operation::write);
  }
}

void tls_stream::abandon_handshake() {
  fail("no handshake in " + std::to_string(handshake_deadline().count()) +
       " s");
  handle_event_impl(operation::read, policy_);
}

std::chrono::seconds tls_stream::handshake_deadline() const {
  return accepted_ ? accepted_handshake_deadline : connected_handshake_deadline;
}

tls_stream::step tls_stream::handshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  return rc == 1 ? step::done : after_failed_call(rc);
}

tls_stream::step tls_stream::after_failed_call(int rc) {
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      return step::want_read;
    case SSL_ERROR_WANT_WRITE:
      return step::want_write;
    case SSL_ERROR_SSL: {
      // This side's verdict ("certificate verify failed") or the other's
      // alert ("tlsv1 alert unknown ca"): either way, no connection.
      auto* reason = ERR_reason_error_string(ERR_peek_error());
      fail(reason ? reason : "handshake failed");
      return step::failed;
    }
    default:
      // The peer closed or reset: nothing to report about a stranger who
      // left, and a node we were talking to is reported by BASP.
      failed_ = true;
      end_handshake();
      return step::failed;
  }
}

void tls_stream::pause_writing() {
  if (write_paused_ || !state_.writing) return;
  write_paused_ = true;
  backend().del(operation::write, fd(), this);
}

void tls_stream::resume_writing() {
  if (!write_paused_) return;
  write_paused_ = false;
  backend().add(operation::write, fd(), this);
}

void tls_stream::end_handshake() {
  if (!handshaking_) return;
  handshaking_ = false;
  deadlines_.forget(this);
}

void tls_stream::fail(const std::string& why) {
  bool report = handshaking_ && accepted_;
  failed_ = true;
  end_handshake();
  auto sink = refusal_sink.load();
  if (report && sink)
    sink("refused a connection from " + peer_of(fd()) + " (TLS: " + why + ")");
}

rw_state tls_stream::io_policy::read_some(size_t& result,
                                          caf::io::network::native_socket,
                                          void* buf, size_t len) {
  result = 0;
  if (self.failed_) return rw_state::failure;
  ERR_clear_error();
  int rc = SSL_read(self.ssl_, buf, static_cast<int>(len));
  if (rc > 0) {
    result = static_cast<size_t>(rc);
    return rw_state::success;
  }
  switch (self.after_failed_call(rc)) {
    case step::want_write:
    case step::want_read:
      // Nothing now: the socket says when.
      return rw_state::success;
    default:
      return rw_state::failure;
  }
}

rw_state tls_stream::io_policy::write_some(size_t& result,
                                           caf::io::network::native_socket,
                                           const void* buf, size_t len) {
  result = 0;
  if (self.failed_) return rw_state::failure;
  // An empty write only asked for the handshake to move on.
  if (len == 0) return rw_state::indeterminate;
  ERR_clear_error();
  int rc = SSL_write(self.ssl_, buf, static_cast<int>(len));
  if (rc > 0) {
    result = static_cast<size_t>(rc);
    return rw_state::success;
  }
  switch (self.after_failed_call(rc)) {
    case step::want_read:
      // TLS needs the peer first: writing waits for the next read event.
      if (self.reading_over_) return rw_state::failure;
      self.pause_writing();
      return rw_state::success;
    case step::want_write:
      return rw_state::success;
    default:
      return rw_state::failure;
  }
}

bool tls_stream::io_policy::must_read_more(caf::io::network::native_socket,
                                           size_t) {
  // Bytes OpenSSL has decrypted already raise no socket event: take them
  // now, or they would wait for the peer's next record.
  return SSL_pending(self.ssl_) > 0;
}

handshake_deadlines::handshake_deadlines(
    caf::io::network::default_multiplexer& mpx)
    : event_handler(
          mpx, ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {}

void handshake_deadlines::watch(tls_stream* s,
                                std::chrono::steady_clock::duration limit) {
  if (fd() < 0) return;
  if (pending_.empty()) {
    // One tick a second is precise enough for a deadline of seconds.
    itimerspec every_second{{1, 0}, {1, 0}};
    ::timerfd_settime(fd(), 0, &every_second, nullptr);
    backend().add(operation::read, fd(), this);
  }
  pending_.push_back({s, std::chrono::steady_clock::now() + limit});
}

void handshake_deadlines::forget(tls_stream* s) {
  auto i = std::find_if(pending_.begin(), pending_.end(),
                        [s](const entry& e) { return e.stream == s; });
  if (i == pending_.end()) return;
  pending_.erase(i);
  if (pending_.empty()) {
    itimerspec off{};
    ::timerfd_settime(fd(), 0, &off, nullptr);
    backend().del(operation::read, fd(), this);
  }
}

void handshake_deadlines::handle_event(operation op) {
  if (op != operation::read) return;
  std::uint64_t ticks;
  while (::read(fd(), &ticks, sizeof ticks) > 0) {
  }
  auto now = std::chrono::steady_clock::now();
  std::vector<tls_stream*> overdue;
  for (auto& e : pending_)
    if (e.due <= now) overdue.push_back(e.stream);
  // Each one forgets itself on the way out.
  for (auto* s : overdue) s->abandon_handshake();
}

}  // namespace remex::node
