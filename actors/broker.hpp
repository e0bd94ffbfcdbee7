// broker: one per node. Accepts exec requests, gives each an id, keeps the
// registry of executions, spawns one supervisor per execution (and one session
// per host), and answers each requester exactly once with the outcome.
#pragma once

#include <functional>
#include <memory>

#include "actors/interfaces.hpp"
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

// make_provider: the transport for each host; empty: default_provider.
broker_actor spawn_broker(caf::actor_system& sys,
                          config::broker_settings settings,
                          provider_factory make_provider = {});

}  // namespace remex::actors
