#include "actors/channel_relay.hpp"

#include <caf/send.hpp>
#include <utility>

namespace remex::actors {

channel_relay::channel_relay(supervisor_impl_actor supervisor,
                             std::map<std::uint32_t, output_pump_actor> outputs,
                             std::map<std::uint32_t, input_pump_actor> inputs,
                             signal_forwarder_actor forwarder)
    : supervisor_(std::move(supervisor)),
      outputs_(std::move(outputs)),
      inputs_(std::move(inputs)),
      forwarder_(std::move(forwarder)) {
  // nop
}

// The supervisor last: it attaches the requester's sources, which then talk
// to the input pumps and forwarder, whose mailboxes hold the channel already.
void channel_relay::on_open(channel_ptr ch) {
  for (auto& [s, pump] : outputs_) caf::anon_send(pump, opened_atom::value, ch);
  for (auto& [s, pump] : inputs_) caf::anon_send(pump, opened_atom::value, ch);
  caf::anon_send(forwarder_, opened_atom::value, ch);
  caf::anon_send(supervisor_, opened_atom::value, std::move(ch));
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

void channel_relay::on_notice(std::string line) {
  caf::anon_send(supervisor_, notice_atom::value, std::move(line));
}

void channel_relay::on_exit(transport::exit_status status) {
  caf::anon_send(supervisor_, exited_atom::value, outcome::from(status));
}

}  // namespace remex::actors
