#include "node/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <caf/actor_system_config.hpp>
#include <caf/detail/socket_guard.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/scoped_actor.hpp>
#include <cstdint>
#include <map>
#include <mutex>

#include "node/tls_stream.hpp"

namespace remex::node {

namespace {

namespace net = caf::io::network;

// The process's one context (CAF's module reads the files again for every
// connection). Null and problem set when a file does not load.
SSL_CTX* make_context(const caf::actor_system_config& cfg,
                      std::string& problem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  auto fail = [&](const std::string& what) -> SSL_CTX* {
    auto* reason = ERR_reason_error_string(ERR_peek_last_error());
    problem = what + (reason ? std::string{": "} + reason : "");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (!ctx) return fail("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx,
                                         cfg.openssl_certificate.c_str()) != 1)
    return fail("cannot load certificate " + cfg.openssl_certificate);
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.openssl_key.c_str(),
                                  SSL_FILETYPE_PEM) != 1)
    return fail("cannot load key " + cfg.openssl_key);
  if (SSL_CTX_load_verify_locations(ctx, cfg.openssl_cafile.c_str(), nullptr) !=
      1)
    return fail("cannot load CA " + cfg.openssl_cafile);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     nullptr);
  if (SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!MD5") != 1)
    return fail("cannot set the cipher list");
  // Nodes do not resume sessions: no tickets to make and send.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // CAF's stream takes what was written and may move its buffer.
  SSL_CTX_set_mode(
      ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

struct tls_context {
  std::string problem;
  SSL_CTX* ctx;

  explicit tls_context(const caf::actor_system_config& cfg)
      : ctx(make_context(cfg, problem)) {}
  ~tls_context() { SSL_CTX_free(ctx); }
};

// A handle of its own for every connection, where CAF takes the socket's
// number: a descriptor is reused as soon as it is closed, and a broker that
// learns of a closed connection late (a message of the old one still on
// its way) would otherwise take it for the new one. BASP then dropped the
// new connection's route: its client saw no answer, no heartbeat, and gave
// up ("connection lost", a few in 2000 executions under load). Above any
// descriptor, so it never meets a handle CAF made from one.
caf::io::connection_handle next_connection_handle() {
  static std::atomic<std::int64_t> next{std::int64_t{1} << 32};
  return caf::io::connection_handle::from_int(next++);
}

class tls_scribe : public caf::io::scribe {
 public:
  tls_scribe(net::default_multiplexer& mpx, net::native_socket fd, SSL* ssl,
             bool accepted, handshake_deadlines& deadlines)
      : scribe(next_connection_handle()),
        stream_(mpx, fd, ssl, accepted, deadlines, this) {}

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.launch();
    }
  }

  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override { stream_.flush(this); }

  std::string addr() const override {
    auto x = net::remote_addr_of_fd(stream_.fd());
    return x ? *x : "";
  }

  uint16_t port() const override {
    auto x = net::remote_port_of_fd(stream_.fd());
    return x ? *x : 0;
  }

  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }

 private:
  bool launched_ = false;
  tls_stream stream_;
};

struct shared_parts {
  shared_parts(const caf::actor_system_config& cfg,
               net::default_multiplexer& mpx)
      : context(cfg), deadlines(mpx) {}

  tls_context context;
  handshake_deadlines deadlines;
};

class tls_doorman : public net::doorman_impl {
 public:
  tls_doorman(net::default_multiplexer& mpx, net::native_socket fd,
              shared_parts& parts)
      : doorman_impl(mpx, fd), parts_(parts) {}

  bool new_connection() override {
    // Already closed by the broker, with events still queued.
    if (detached()) return false;
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    caf::detail::socket_guard guard{fd};
    SSL* ssl = SSL_new(parts_.context.ctx);
    if (!ssl) return false;
    auto scribe =
        caf::make_counted<tls_scribe>(mpx, fd, ssl, true, parts_.deadlines);
    guard.release();
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mpx, hdl);
  }

 private:
  shared_parts& parts_;
};

// CAF's middleman actor (publish, connect, unpublish, caching) with our
// scribes and doormen. Detached: connect() blocks in connect(2).
class tls_middleman : public caf::io::middleman_actor_impl {
 public:
  tls_middleman(caf::actor_config& cfg, caf::actor basp, shared_parts* parts)
      : middleman_actor_impl(cfg, std::move(basp)), parts_(*parts) {}

  const char* name() const override { return "remex.tls_middleman"; }

 protected:
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host,
                                             uint16_t port) override {
    if (!parts_.context.ctx)
      return caf::make_error(caf::sec::cannot_connect_to_node,
                             parts_.context.problem);
    auto fd = net::new_tcp_connection(host, port);
    if (!fd) return std::move(fd.error());
    caf::detail::socket_guard guard{*fd};
    SSL* ssl = SSL_new(parts_.context.ctx);
    if (!ssl) return caf::make_error(caf::sec::cannot_connect_to_node);
    caf::io::scribe_ptr scribe =
        caf::make_counted<tls_scribe>(mpx(), *fd, ssl, false, parts_.deadlines);
    guard.release();
    return scribe;
  }

  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr,
                                           bool reuse) override {
    if (!parts_.context.ctx)
      return caf::make_error(caf::sec::cannot_open_port,
                             parts_.context.problem);
    auto fd = net::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd) return std::move(fd.error());
    return caf::make_counted<tls_doorman>(mpx(), *fd, parts_);
  }

 private:
  net::default_multiplexer& mpx() {
    return static_cast<net::default_multiplexer&>(
        system().middleman().backend());
  }

  shared_parts& parts_;
};

// Which module serves which actor system (tests run more than one).
std::mutex registry_mutex;
std::map<const caf::actor_system*, caf::io::middleman_actor> registry;

}  // namespace

struct tls_transport::state {
  state(const caf::actor_system_config& cfg, net::default_multiplexer& mpx)
      : parts(cfg, mpx) {}

  shared_parts parts;
  caf::io::middleman_actor actor;
};

caf::actor_system::module* tls_transport::make(caf::actor_system& sys,
                                               caf::detail::type_list<>) {
  return new tls_transport(sys);
}

tls_transport::tls_transport(caf::actor_system& sys) : sys_(sys) {}

tls_transport::~tls_transport() = default;

caf::io::middleman_actor tls_transport::handle(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{registry_mutex};
  auto i = registry.find(&sys);
  return i == registry.end() ? caf::io::middleman_actor{} : i->second;
}

void tls_transport::start() {
  auto& mpx =
      static_cast<net::default_multiplexer&>(sys_.middleman().backend());
  state_ = std::make_unique<state>(sys_.config(), mpx);
  auto basp =
      sys_.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  state_->actor = sys_.spawn<tls_middleman, caf::detached + caf::hidden>(
      std::move(basp), &state_->parts);
  std::lock_guard<std::mutex> guard{registry_mutex};
  registry[&sys_] = state_->actor;
}

void tls_transport::stop() {
  {
    std::lock_guard<std::mutex> guard{registry_mutex};
    registry.erase(&sys_);
  }
  caf::scoped_actor self{sys_, true};
  self->send_exit(state_->actor, caf::exit_reason::kill);
  self->wait_for(state_->actor);
  state_->actor = nullptr;
}

}  // namespace remex::node
