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
          "std::vector<remex.execution_info>")
      .add_message_type<console_row>("remex.console_row")
      .add_message_type<std::vector<console_row>>(
          "std::vector<remex.console_row>")
      // Handles that travel alone in a message (attach, and replies).
      .add_message_type<sink_actor>("remex.sink_actor")
      .add_message_type<input_actor>("remex.input_actor")
      .add_message_type<source_actor>("remex.source_actor")
      .add_message_type<signal_actor>("remex.signal_actor")
      .add_message_type<signal_source_actor>("remex.signal_source_actor")
      .add_message_type<supervisor_actor>("remex.supervisor_actor")
      .add_message_type<broker_actor>("remex.broker_actor")
      .add_message_type<files_actor>("remex.files_actor")
      .add_message_type<event_sink_actor>("remex.event_sink_actor")
      // The agent's log levels that travel with a file answer.
      .add_message_type<std::vector<std::int32_t>>("std::vector<int32_t>");
  // The host groups (groups_atom) travel as std::map<std::string,
  // std::string>, which CAF 0.17 knows already.
}

}  // namespace remex::actors
