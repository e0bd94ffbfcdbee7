// What a node's broker and its peer directory (peer_directory.hpp) tell each
// other. Local messages only: they never cross the cluster.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace remex::actors {

// A live peer, as routing needs it (and consoles show it).
struct peer_route {
  std::string name;
  std::vector<std::string> serves;
  broker_actor broker;
  std::string address;  // HOST:PORT as configured, or where it connected from
};

// Live peers in the order routing prefers them: configured peers in config
// order, then those that joined by themselves, in the order they came.
using peer_routes = std::vector<peer_route>;

// The directory as the broker sees it: a hello a peer sent the broker
// (answered with this node's name and serves), and this node's serves
// after a reload (announced again to every live peer).
using peer_directory_actor = caf::typed_actor<
    caf::replies_to<peer_atom, std::string, std::vector<std::string>,
                    caf::actor>::with<std::string, std::vector<std::string>>,
    caf::reacts_to<settings_atom, std::vector<std::string>>>;

}  // namespace remex::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::peer_routes)
