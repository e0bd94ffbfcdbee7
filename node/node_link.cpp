#include "node/node_link.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <cstdio>

#include "actors/types.hpp"

namespace remex::node {

void configure_link(caf::actor_system_config& cfg,
                    const std::string& token_file) {
  cfg.load<caf::io::middleman>().load<caf::openssl::manager>();
  // Without it, one connection's TLS error can drop another's
  // (openssl_error_queue.cpp).
  if (!openssl_error_queue_guarded())
    std::fprintf(stderr,
                 "remex: warning: OpenSSL's error queue is not guarded; "
                 "links may drop under load\n");
  actors::add_message_types(cfg);
  // With a certificate, a key and a CA configured, CAF's OpenSSL session
  // requires a valid peer certificate on both sides
  // (SSL_VERIFY_FAIL_IF_NO_PEER_CERT); the token's self-signed certificate
  // is the only CA, so only holders of the token get past the handshake.
  cfg.openssl_certificate = token_file;
  cfg.openssl_key = token_file;
  cfg.openssl_cafile = token_file;
  // Another CAF application on the port is refused by name.
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"remex-1"});
  // A peer that vanishes without closing its socket (a cable, a frozen
  // host) is noticed in seconds, and its executions are cancelled.
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::seconds(2)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::seconds(10)});
}

std::uint16_t publish_broker(caf::actor_system& sys,
                             const actors::broker_actor& broker,
                             const std::string& host, std::uint16_t port,
                             std::string& error) {
  auto r = caf::openssl::publish(broker, port, host.c_str(), true);
  if (!r) {
    error = "cannot listen on " + host + ":" + std::to_string(port) + ": " +
            sys.render(r.error());
    return 0;
  }
  return *r;
}

void unpublish_broker(caf::actor_system& sys,
                      const actors::broker_actor& broker, std::uint16_t port) {
  // caf/openssl/unpublish.hpp does not compile in 0.17.6 (it omits the
  // address): ask the OpenSSL middleman actor directly, and wait, so that
  // no client connects after this returns.
  caf::scoped_actor self{sys};
  self->request(sys.openssl_manager().actor_handle(), caf::infinite,
                caf::unpublish_atom::value, broker.address(), port)
      .receive([] {}, [](caf::error&) {});
}

actors::broker_actor connect_broker(caf::actor_system& sys,
                                    const std::string& host, std::uint16_t port,
                                    std::string& error) {
  auto r = caf::openssl::remote_actor<actors::broker_actor>(sys, host, port);
  if (r) return *r;
  // TCP got through but the TLS handshake did not: the certificates did not
  // match, which is all a client without the right token may learn.
  if (r.error() == caf::sec::disconnect_during_handshake)
    error = "access denied";
  else if (r.error() == caf::sec::unexpected_actor_messaging_interface)
    error = "not a compatible remex broker";
  else if (r.error() == caf::sec::cannot_connect_to_node)
    error = "cannot connect";
  else
    error = sys.render(r.error());
  return {};
}

}  // namespace remex::node
