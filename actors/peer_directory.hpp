// peer_directory: one per node. It connects to the configured peers (never
// blocking a scheduler thread: the connect goes to the middleman's own
// actor), greets each with this node's name, what it serves and its broker,
// learns the same of every peer that greets it (connections are
// symmetric: either side may start), monitors them, retries a lost or
// unreachable configured peer with backoff (0.5 s, doubling, at most 30 s),
// and tells the broker the live peers whenever that changes.
#pragma once

#include <caf/fwd.hpp>
#include <string>
#include <vector>

#include "actors/broker.hpp"
#include "actors/peer_types.hpp"

namespace remex::actors {

struct cluster_settings {
  std::string name;                 // this node's
  std::vector<std::string> peers;   // "HOST:PORT", "[V6]:PORT"
  std::vector<std::string> serves;  // this node's patterns
};

// connector: the middleman actor that connects to host:port and answers
// (node_id, strong_actor_ptr, std::set<std::string>) with the actor
// published there, or an error (node::connector()).
peer_directory_actor spawn_peer_directory(caf::actor_system& sys,
                                          cluster_settings settings,
                                          broker_admin_actor broker,
                                          caf::actor connector,
                                          broker_actor face = {});

}  // namespace remex::actors
