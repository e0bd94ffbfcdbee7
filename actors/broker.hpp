// broker: one per node. Accepts exec requests, gives each an id, keeps the
// registry of executions, spawns one supervisor per execution (and one session
// per host), and answers each requester exactly once with the outcome.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/timespan.hpp>
#include <functional>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/peer_types.hpp"
#include "actors/session.hpp"
#include "actors/supervisor.hpp"
#include "config/broker_settings.hpp"

namespace caf {
class actor_system;
}

namespace remex::actors {

// Makes the transport for a request's host; the default picks the local
// backend for an empty target and SSH otherwise.
using provider_factory =
    std::function<std::shared_ptr<transport::session_provider>(
        const exec_request&)>;

// The default transport for a request's host, and how the agent bundle
// reaches it (SSH hosts only).
struct host_transport {
  std::shared_ptr<transport::session_provider> provider;
  agent_shipping shipping;
};
host_transport default_provider(const exec_request& req);

// What the node's own program may tell its broker, on top of the public
// interface. Never published: remote nodes get the broker_actor handle.
//  - shutdown(grace): take no more requests; executions still running after
//    grace are killed and answered 255 "broker shutting down"; the reply
//    comes once none runs, and the broker has then stopped its sessions.
//  - settings(s): from now on (SIGHUP); running executions keep theirs.
//  - peer(directory): where the hellos of joining peers go
//    (peer_directory.hpp); without one the node takes no peers.
//  - routes(live peers): whom requests for targets this node does not
//    serve go to, from the directory whenever a peer comes or goes; with
//    the addresses of configured peers not connected (for consoles).
using broker_admin_actor = broker_actor::extend<
    caf::replies_to<shutdown_atom, caf::timespan>::with<bool>,
    caf::reacts_to<settings_atom, config::broker_settings>,
    caf::reacts_to<peer_atom, peer_directory_actor>,
    caf::reacts_to<routes_atom, peer_routes>,
    caf::reacts_to<routes_atom, peer_routes, std::vector<std::string>>>;

// make_provider: the transport for each host; empty: default_provider.
// The broker keeps idle sessions warm (settings.idle_timeout) and so lives
// until it is sent an exit (or shutdown), not merely until its last handle
// is dropped; exits from other nodes are ignored.
broker_admin_actor spawn_broker(caf::actor_system& sys,
                                config::broker_settings settings,
                                provider_factory make_provider = {});

}  // namespace remex::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::config::broker_settings)
