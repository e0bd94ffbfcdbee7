// BASP over TLS with remex's own stream (tls_stream.hpp) in place of
// libcaf_openssl's: the same wire (TLS 1.2+, mutual certificates, CAF's
// BASP inside), so a stock CAF node with libcaf_openssl and the token still
// talks to remexd, but without its handshake busy-loop.
//
// It is an actor system module in the slot CAF keeps for its OpenSSL
// module (the two cannot be loaded together): it starts after the
// middleman, and stops before it, taking its connector actor with it.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/io/middleman_actor.hpp>
#include <memory>

namespace remex::node {

// Load with cfg.load<caf::io::middleman>().load<tls_transport>() and set
// cfg.openssl_certificate, openssl_key and openssl_cafile: every connection
// presents that certificate and demands one the CA signed.
class tls_transport : public caf::actor_system::module {
 public:
  static caf::actor_system::module* make(caf::actor_system& sys,
                                         caf::detail::type_list<>);

  // The middleman actor of sys that publishes and connects over TLS
  // (caf::io::middleman_actor's messages); null if the module is not
  // loaded.
  static caf::io::middleman_actor handle(caf::actor_system& sys);

  ~tls_transport() override;

  void start() override;
  void stop() override;
  void init(caf::actor_system_config&) override {}
  id_t id() const override { return openssl_manager; }
  void* subtype_ptr() override { return this; }

  struct state;

 private:
  explicit tls_transport(caf::actor_system& sys);

  caf::actor_system& sys_;
  std::unique_ptr<state> state_;
};

}  // namespace remex::node
