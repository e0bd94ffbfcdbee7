// A CAF stream over TLS whose handshake waits for the socket the way TLS
// asks: while OpenSSL wants to read, the stream stops asking the multiplexer
// whether it may write.
//
// It replaces libcaf_openssl's stream, which (CAF 0.17.6, actor-framework
// issue #1060) keeps write interest while a handshake waits for the peer:
// BASP queues its own handshake at once, every "writable" event runs a
// handshake step that wants to read, and the multiplexer thread spins. One
// stranger who connected and said nothing kept remexd at a full core, and
// 200 clients at once starved its accept loop.
//
// A handshake that has not finished by its deadline is dropped (BASP times
// out only nodes it has heard from, so a silent stranger would hold its
// socket for ever).
#pragma once

#include <openssl/ssl.h>

#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/stream.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace remex::node {

class handshake_deadlines;

class tls_stream : public caf::io::network::stream {
 public:
  // Owns ssl, set to the accept or connect state on fd; owner is the
  // scribe this stream is a member of.
  tls_stream(caf::io::network::default_multiplexer& mpx,
             caf::io::network::native_socket fd, SSL* ssl, bool accepted,
             handshake_deadlines& deadlines,
             caf::io::network::stream_manager* owner);

  ~tls_stream() override;

  // Starts reading and the handshake; the deadline runs from here.
  void launch();

  void handle_event(caf::io::network::operation op) override;

  void removed_from_loop(caf::io::network::operation op) override;

  // Called by handshake_deadlines when the handshake is overdue.
  void abandon_handshake();

 private:
  // What CAF's stream calls to move bytes once the handshake is done.
  struct io_policy {
    tls_stream& self;
    caf::io::network::rw_state read_some(size_t& result,
                                         caf::io::network::native_socket,
                                         void* buf, size_t len);
    caf::io::network::rw_state write_some(size_t& result,
                                          caf::io::network::native_socket,
                                          const void* buf, size_t len);
    bool must_read_more(caf::io::network::native_socket, size_t);
  };

  enum class step { done, want_read, want_write, failed };

  std::chrono::seconds handshake_deadline() const;
  step handshake();
  step after_failed_call(int rc);
  void pause_writing();
  void resume_writing();
  void end_handshake();
  void fail(const std::string& why);

  SSL* ssl_;
  bool accepted_;
  handshake_deadlines& deadlines_;
  caf::io::network::stream_manager* owner_;
  bool handshaking_ = true;
  bool failed_ = false;
  // Write interest taken back because TLS waits for the peer; the writer
  // (our manager) is kept for when it is given back.
  bool write_paused_ = false;
  // The multiplexer no longer reads for us (closed or failed).
  bool reading_over_ = false;
  io_policy policy_{*this};
};

// The handshakes under way on one multiplexer and their deadlines, checked
// by a timerfd that is in the loop only while one is pending (so that the
// multiplexer can still run dry and stop). Lives on the multiplexer thread.
class handshake_deadlines : public caf::io::network::event_handler {
 public:
  explicit handshake_deadlines(caf::io::network::default_multiplexer& mpx);

  void watch(tls_stream* s, std::chrono::steady_clock::duration limit);
  void forget(tls_stream* s);

  void handle_event(caf::io::network::operation op) override;
  void removed_from_loop(caf::io::network::operation) override {}
  void graceful_shutdown() override {}

 private:
  struct entry {
    tls_stream* stream;
    std::chrono::steady_clock::time_point due;
  };
  std::vector<entry> pending_;
};

// Where a line goes when an accepted connection fails its handshake (no
// certificate, one the CA did not sign, garbage, silence), e.g. "refused a
// connection from 127.0.0.1:5123 (TLS: certificate verify failed)".
// Called on the multiplexer thread.
void set_tls_refusal_sink(void (*sink)(const std::string& line));

// How long an accepted connection may take to finish its handshake.
constexpr std::chrono::seconds accepted_handshake_deadline{10};
// The same for a connection we opened: longer than connect_deadline, so that
// a client's own "no answer" verdict comes first; the socket goes after.
constexpr std::chrono::seconds connected_handshake_deadline{30};

}  // namespace remex::node
