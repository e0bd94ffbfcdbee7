// The transport listener of one execution: turns I/O-thread callbacks into
// messages for the execution's pumps, forwarder and supervisor, and never
// blocks. The channel goes to each of them first (opened), so whatever
// follows from the same thread finds it in hand.
#pragma once

#include <cstdint>
#include <limits>
#include <map>

#include "actors/log_budget.hpp"
#include "actors/signal_forwarder.hpp"
#include "actors/stream_pump.hpp"
#include "actors/supervisor.hpp"

namespace remex::actors {

class channel_relay : public transport::channel_listener {
 public:
  channel_relay(supervisor_impl_actor supervisor,
                std::map<std::uint32_t, output_pump_actor> outputs,
                std::map<std::uint32_t, input_pump_actor> inputs,
                signal_forwarder_actor forwarder);

  void on_open(channel_ptr ch) override;
  void on_data(std::uint32_t s, std::string bytes) override;
  void on_eof(std::uint32_t s) override;
  void on_drained(std::uint32_t s, std::size_t n) override;
  void on_log(int level, std::string message) override;
  void on_notice(std::string line) override;
  void on_exit(transport::exit_status status) override;

 private:
  supervisor_impl_actor supervisor_;
  std::map<std::uint32_t, output_pump_actor> outputs_;
  std::map<std::uint32_t, input_pump_actor> inputs_;
  signal_forwarder_actor forwarder_;
  static constexpr int log_lines_per_second = 100;
  log_budget log_budget_{1000, log_lines_per_second};
  // The most severe level among the lines dropped since the last report.
  int dropped_level_ = std::numeric_limits<int>::min();
  void report_dropped_logs(bool final);
};

}  // namespace remex::actors
