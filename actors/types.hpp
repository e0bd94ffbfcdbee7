// Registers the actors' message types with an actor system config, so that
// they can be serialized (cluster, recording) under stable names.
#pragma once

namespace caf {
class actor_system_config;
}

namespace remex::actors {

void add_message_types(caf::actor_system_config& cfg);

}  // namespace remex::actors
