// The transport listener of one execution: turns I/O-thread callbacks into
// messages for the execution's pumps and supervisor, and never blocks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/stream_pump.hpp"
#include "transport/exec_channel.hpp"

namespace remex::actors {

class channel_relay : public transport::channel_listener {
 public:
  channel_relay(supervisor_actor supervisor,
                std::map<std::uint32_t, output_pump_actor> outputs,
                std::map<std::uint32_t, input_pump_actor> inputs);

  void on_data(std::uint32_t s, std::string bytes) override;
  void on_eof(std::uint32_t s) override;
  void on_drained(std::uint32_t s, std::size_t n) override;
  void on_log(int level, std::string message) override;
  void on_exit(transport::exit_status status) override;

 private:
  supervisor_actor supervisor_;
  std::map<std::uint32_t, output_pump_actor> outputs_;
  std::map<std::uint32_t, input_pump_actor> inputs_;
};

}  // namespace remex::actors
