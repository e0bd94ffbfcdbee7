// session: one per host connection. Wraps a transport::session_provider, makes
// sure the agent is there (agent backend), and opens one exec channel per
// execution. Connecting happens on the provider's own I/O thread, so the
// actor never blocks.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"
#include "transport/agent_bundle.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {
class ssh_session_provider;
}

namespace remex::actors {

using listener_ptr = std::shared_ptr<transport::channel_listener>;
using channel_ptr = std::shared_ptr<transport::exec_channel>;

using placement_ptr = std::shared_ptr<const transport::agent_placement>;

// open answers with the channel, or with nullptr once the listener has been
// told why there is none (the agent could not be placed).
using session_actor = caf::typed_actor<
    caf::replies_to<open_atom, exec_request, listener_ptr>::with<channel_ptr>,
    caf::reacts_to<placed_atom, placement_ptr>>;

// Where this node finds the agent bundle it runs or ships to hosts.
struct agent_settings {
  std::string local_dir;  // folder holding remex-agent and libcbor.so.*
};

// Spawns the session that runs requests over provider. ship_via (the same
// provider, when the host is remote over SSH; else null): the agent bundle is
// placed there (once) through it before it runs.
session_actor spawn_session(
    caf::local_actor* parent,
    std::shared_ptr<transport::session_provider> provider, agent_settings agent,
    std::shared_ptr<transport::ssh_session_provider> ship_via);

}  // namespace remex::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::listener_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::channel_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::placement_ptr)
