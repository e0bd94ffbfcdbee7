#include "node/node_link.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include "actors/types.hpp"
#include "node/tls_stream.hpp"
#include "node/tls_transport.hpp"

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
  cfg.load<caf::io::middleman>().load<tls_transport>();
  actors::add_message_types(cfg);
  // The transport requires a valid peer certificate on both sides; the
  // token's self-signed certificate is the only CA, so only holders of the
  // token get past the handshake. With --tls-*, the CA takes the token's
  // place: one trust root per node.
  cfg.openssl_certificate = cert;
  cfg.openssl_key = key;
  cfg.openssl_cafile = ca;
  cfg.set("middleman.app-identifiers",
          std::vector<std::string>{app_identifier});
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
  return caf::actor_cast<caf::actor>(tls_transport::handle(sys));
}

void on_tls_refusal(void (*sink)(const std::string& line)) {
  set_tls_refusal_sink(sink);
}

std::uint16_t publish_broker(caf::actor_system& sys,
                             const actors::broker_actor& broker,
                             const std::string& host, std::uint16_t port,
                             std::string& error) {
  caf::scoped_actor self{sys};
  std::uint16_t bound = 0;
  self->request(tls_transport::handle(sys), caf::infinite,
                caf::publish_atom::value, port,
                caf::actor_cast<caf::strong_actor_ptr>(broker),
                sys.message_types(broker), host, true)
      .receive([&](std::uint16_t actual) { bound = actual; },
               [&](caf::error& e) {
                 error = "cannot listen on " + host + ":" +
                         std::to_string(port) + ": " + sys.render(e);
               });
  return bound;
}

void unpublish_broker(caf::actor_system& sys,
                      const actors::broker_actor& broker, std::uint16_t port) {
  // Waits, so that no client connects after this returns.
  caf::scoped_actor self{sys};
  self->request(tls_transport::handle(sys), caf::infinite,
                caf::unpublish_atom::value, broker.address(), port)
      .receive([] {}, [](caf::error&) {});
}

actors::broker_actor connect_broker(caf::actor_system& sys,
                                    const std::string& host, std::uint16_t port,
                                    std::string& error) {
  // A remexd that accepted the connection but does not answer (stopped,
  // frozen) is given up after the deadline.
  caf::scoped_actor self{sys};
  actors::broker_actor broker;
  self->request(tls_transport::handle(sys), connect_deadline,
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
