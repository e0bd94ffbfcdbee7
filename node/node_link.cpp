#include "node/node_link.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include "actors/types.hpp"

namespace remex::node {

void configure_link(caf::actor_system_config& cfg,
                    const std::string& token_file) {
  configure_link(cfg, token_file, token_file, token_file);
}

void configure_client_link(caf::actor_system_config& cfg,
                           const std::string& token_file) {
  configure_link(cfg, token_file);
  // Heartbeats still go out, so that remexd keeps an idle client; only the
  // client's own verdict on silence moves to link_watch.
  cfg.set("middleman.connection-timeout", caf::timespan{0});
}

void configure_link(caf::actor_system_config& cfg, const std::string& cert,
                    const std::string& key, const std::string& ca) {
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
  // With --tls-*, the CA takes the token's place: one trust root per node.
  cfg.openssl_certificate = cert;
  cfg.openssl_key = key;
  cfg.openssl_cafile = ca;
  // Another CAF application on the port is refused by name, and so is a
  // remex of another wire generation: the number goes up whenever a public
  // message changes shape (2: the cluster's peer messages, the console's
  // fields in execution_info; 3: the console's watch, connect_options'
  // max_connections), which BASP would otherwise only notice while
  // deserializing.
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"remex-3"});
  // A peer that vanishes without closing its socket (a cable, a frozen
  // host) is noticed in seconds, and its executions are cancelled.
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::seconds(2)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::seconds(10)});
}

std::string tls_files_problem(const std::string& cert, const std::string& key,
                              const std::string& ca) {
  auto read = [](const std::string& path, auto reader) -> std::string {
    auto* f = std::fopen(path.c_str(), "r");
    if (!f) return "cannot read " + path + ": " + std::strerror(errno);
    auto ok = reader(f);
    std::fclose(f);
    return ok ? "" : path + " holds no PEM key or certificate";
  };
  auto cert_reader = [](std::FILE* f) {
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    X509_free(x);
    return x != nullptr;
  };
  auto key_reader = [](std::FILE* f) {
    EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    EVP_PKEY_free(k);
    return k != nullptr;
  };
  if (auto why = read(cert, cert_reader); !why.empty()) return why;
  if (auto why = read(key, key_reader); !why.empty()) return why;
  struct stat st;
  if (::stat(key.c_str(), &st) == 0 && (st.st_mode & 077))
    return "tls-key " + key + " is accessible by others: chmod 600 it";
  return read(ca, cert_reader);
}

caf::actor connector(caf::actor_system& sys) {
  return caf::actor_cast<caf::actor>(sys.openssl_manager().actor_handle());
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
  // caf::openssl::remote_actor waits for ever, and a remexd that accepted
  // the connection but does not answer (stopped, frozen) never fails it.
  caf::scoped_actor self{sys};
  actors::broker_actor broker;
  self->request(sys.openssl_manager().actor_handle(), connect_deadline,
                caf::connect_atom::value, host, port)
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& ptr,
              std::set<std::string>& interface) {
            caf::detail::type_list<actors::broker_actor> wanted;
            if (!ptr)
              error = sys.render(
                  caf::make_error(caf::sec::no_actor_published_at_port));
            else if (!sys.assignable(interface, sys.message_types(wanted)))
              error = "not a compatible remex broker";
            else
              broker = caf::actor_cast<actors::broker_actor>(std::move(ptr));
          },
          [&](caf::error& e) {
            // TCP got through but the TLS handshake did not: the
            // certificates did not match, which is all a client without
            // the right token may learn.
            if (e == caf::sec::disconnect_during_handshake)
              error = "access denied";
            else if (e == caf::sec::cannot_connect_to_node)
              error = "cannot connect";
            else if (e == caf::sec::request_timeout)
              error = "no answer to the connection in " +
                      std::to_string(connect_deadline.count()) + " s";
            else
              error = sys.render(e);
          });
  return broker;
}

}  // namespace remex::node
