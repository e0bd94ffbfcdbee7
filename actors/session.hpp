// session: one per host connection. Wraps a transport::session_provider, makes
// sure the agent is there (agent backend), and opens one exec channel per
// execution. Connecting happens on the provider's own I/O thread, so the
// actor never blocks.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "actors/channel_types.hpp"
#include "actors/interfaces.hpp"
#include "config/agent_settings.hpp"
#include "transport/agent_bundle.hpp"
#include "transport/agent_files.hpp"
#include "transport/session_provider.hpp"

namespace remex::actors {

using placement_ptr = std::shared_ptr<const transport::agent_placement>;
using file_session_ptr = std::shared_ptr<transport::file_session>;

// open answers with the channel, or with nullptr once the listener has been
// told why there is none (the agent could not be placed). files answers,
// once the agent is placed, with an agent file session (path queries and
// file operations) over the same connection; when the agent could not be
// placed, or the host cannot be reached, its requests say why. checked and
// placed are the session's own: the answers of its placement work.
using session_actor = caf::typed_actor<
    caf::replies_to<open_atom, exec_request, listener_ptr>::with<channel_ptr>,
    caf::replies_to<files_atom>::with<file_session_ptr>,
    caf::reacts_to<checked_atom, placement_ptr>,
    caf::reacts_to<placed_atom, placement_ptr>>;

// How the agent bundle reaches a remote host, for the host's transport:
// supplied by the composition root (default_provider.cpp). Empty for a
// host where the agent runs from this node's own files (local).
struct agent_shipping {
  // Non-blocking, over the host's own connection: is the bundle in place?
  std::function<void(const transport::agent_bundle&,
                     std::function<void(transport::agent_placement)>)>
      check;
  // Blocking (a connection of its own): upload it. Run off the scheduler.
  std::function<transport::agent_placement(const transport::agent_bundle&)>
      place;

  explicit operator bool() const { return static_cast<bool>(place); }
};

// Spawns the session that runs requests over provider, placing the agent
// bundle on the host (once) through shipping when it has any.
session_actor spawn_session(
    caf::local_actor* parent,
    std::shared_ptr<transport::session_provider> provider,
    config::agent_settings agent, agent_shipping shipping);

}  // namespace remex::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::placement_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::file_session_ptr)
