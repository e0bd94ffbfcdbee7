// What a node's broker is configured with: where the agent bundle is, and the
// kill ladder of its executions. (How it reaches hosts, the provider factory,
// is code, not a setting: it stays with spawn_broker in actors/broker.hpp.)
#pragma once

#include "config/agent_settings.hpp"
#include "config/supervisor_settings.hpp"

namespace remex::config {

struct broker_settings {
  agent_settings agent;
  supervisor_settings supervision;
};

}  // namespace remex::config
