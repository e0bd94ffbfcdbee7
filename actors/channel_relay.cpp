#include "actors/channel_relay.hpp"

#include <algorithm>
#include <caf/send.hpp>
#include <limits>
#include <string>
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
  if (log_budget_.take(log_budget::clock::now()))
    caf::anon_send(supervisor_, log_atom::value, std::int32_t{level},
                   std::move(message));
  else
    dropped_level_ = std::max(dropped_level_, level);
  report_dropped_logs(false);
}

void channel_relay::report_dropped_logs(bool final) {
  // At the level of the most severe line dropped: where those would not
  // have shown, neither does this.
  if (auto n = log_budget_.report(log_budget::clock::now(), final))
    caf::anon_send(supervisor_, log_atom::value,
                   std::int32_t{std::exchange(dropped_level_,
                                              std::numeric_limits<int>::min())},
                   std::to_string(n) + " remote log lines dropped (more than " +
                       std::to_string(log_lines_per_second) + " a second)");
}

void channel_relay::on_notice(std::string line) {
  caf::anon_send(supervisor_, notice_atom::value, std::move(line));
}

void channel_relay::on_exit(transport::exit_status status) {
  report_dropped_logs(true);
  caf::anon_send(supervisor_, exited_atom::value, outcome::from(status));
}

}  // namespace remex::actors
