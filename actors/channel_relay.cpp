#include "actors/channel_relay.hpp"

#include <caf/send.hpp>
#include <utility>

namespace remex::actors {

channel_relay::channel_relay(supervisor_actor supervisor,
                             std::map<std::uint32_t, output_pump_actor> outputs,
                             std::map<std::uint32_t, input_pump_actor> inputs)
    : supervisor_(std::move(supervisor)),
      outputs_(std::move(outputs)),
      inputs_(std::move(inputs)) {
  // nop
}

void channel_relay::on_data(std::uint32_t s, std::string bytes) {
  auto i = outputs_.find(s);
  if (i != outputs_.end())
    caf::anon_send(i->second, chunk_atom::value, std::move(bytes));
  else
    caf::anon_send(
        supervisor_, log_atom::value, std::int32_t{4},
        "data for unrequested stream " + std::to_string(s) + " dropped");
}

void channel_relay::on_eof(std::uint32_t s) {
  auto i = outputs_.find(s);
  if (i != outputs_.end()) caf::anon_send(i->second, eof_atom::value);
}

void channel_relay::on_drained(std::uint32_t s, std::size_t n) {
  auto i = inputs_.find(s);
  if (i != inputs_.end())
    caf::anon_send(i->second, drained_atom::value, std::uint64_t{n});
}

void channel_relay::on_log(int level, std::string message) {
  caf::anon_send(supervisor_, log_atom::value, std::int32_t{level},
                 std::move(message));
}

void channel_relay::on_exit(transport::exit_status status) {
  caf::anon_send(supervisor_, exited_atom::value, outcome::from(status));
}

}  // namespace remex::actors
