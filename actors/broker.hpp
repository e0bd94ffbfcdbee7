// broker: one per node. Accepts exec requests, gives each an id, keeps the
// registry of executions, spawns one supervisor per execution (and one session
// per host), and answers each requester exactly once with the outcome.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/session.hpp"
#include "actors/supervisor.hpp"

namespace caf {
class actor_system;
}

namespace remex::actors {

struct broker_settings {
  agent_settings agent;
  supervisor_settings supervision;
};

broker_actor spawn_broker(caf::actor_system& sys, broker_settings settings);

}  // namespace remex::actors
