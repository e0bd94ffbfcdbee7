// How remex nodes reach each other: CAF's middleman (BASP) over TLS with
// mutual certificates from the token file (token_file.hpp), carried by
// tls_transport.hpp. A node publishes its broker's public interface only; a
// client connects and gets that handle, or one line saying why not.
#pragma once

#include <caf/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "actors/interfaces.hpp"

namespace remex::node {

// What BASP's handshake names this application: another CAF application on
// the port is refused by name, and so is a remex of another wire
// generation. The number goes up whenever a public message changes shape
// (2: the cluster's peer messages, the console's fields in execution_info;
// 3: the console's watch, connect_options' max_connections), which BASP
// would otherwise only notice while deserializing.
constexpr const char* app_identifier = "remex-3";

// Loads the middleman and the TLS transport and makes every connection of
// the actor system present and demand the token's certificate. Call before
// the actor system is made; token_file must be readable
// (token_file_problem() is empty), or every connection fails.
void configure_link(caf::actor_system_config& cfg,
                    const std::string& token_file);

// The same for a client (the CLI, another CAF program) that connects to one
// remexd: no BASP connection timeout, which in CAF 0.17.6 also drops a
// connection whose handshake is still under way at the first heartbeat
// tick (its endpoint starts as "last seen" at the clock's epoch): under
// load, clients connecting together were refused that way. A client that
// must notice a silent remexd watches it (link_watch.hpp).
void configure_client_link(caf::actor_system_config& cfg,
                           const std::string& token_file);

// The same with a certificate and key of a CA instead of the token: every
// connection must present a certificate the CA signed (remexd's --tls-*).
void configure_link(caf::actor_system_config& cfg, const std::string& cert,
                    const std::string& key, const std::string& ca);

// Empty when the three TLS files can be read and hold a key, a certificate
// and at least one CA certificate; else one line naming the file.
std::string tls_files_problem(const std::string& cert, const std::string& key,
                              const std::string& ca);

// The actor that connects to other nodes without blocking the caller:
// (connect_atom, host, port) → (node_id, strong_actor_ptr, set<string>).
caf::actor connector(caf::actor_system& sys);

// Where a line goes when this process refuses an incoming TLS connection
// (no certificate, one not signed by the trusted CA or token, garbage, or
// no handshake in time), e.g. "refused a connection from 127.0.0.1:5123
// (TLS: certificate verify failed)". Called on the multiplexer thread.
void on_tls_refusal(void (*sink)(const std::string& line));

// Opens host:port for clients and peers. 0 and error set on failure.
std::uint16_t publish_broker(caf::actor_system& sys,
                             const actors::broker_actor& broker,
                             const std::string& host, std::uint16_t port,
                             std::string& error);

// Stops accepting clients on port; connected ones stay.
void unpublish_broker(caf::actor_system& sys,
                      const actors::broker_actor& broker, std::uint16_t port);

// How long connect_broker waits for the connection and the handshakes.
constexpr std::chrono::seconds connect_deadline{20};

// The broker published at host:port; on failure a null handle and error set
// to the reason ("access denied", "cannot connect", "no answer to the
// connection in 20 s").
actors::broker_actor connect_broker(caf::actor_system& sys,
                                    const std::string& host, std::uint16_t port,
                                    std::string& error);

}  // namespace remex::node
