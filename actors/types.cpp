#include "actors/types.hpp"

#include <caf/actor_system_config.hpp>

#include "actors/interfaces.hpp"

namespace remex::actors {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<exec_request>("remex.exec_request")
      .add_message_type<config::connect_options>("remex.connect_options")
      .add_message_type<outcome>("remex.outcome")
      .add_message_type<endpoints>("remex.endpoints")
      .add_message_type<execution_info>("remex.execution_info")
      .add_message_type<std::vector<execution_info>>(
          "std::vector<remex.execution_info>");
}

}  // namespace remex::actors
