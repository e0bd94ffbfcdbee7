// A thread-safe slot for an execution's exec_channel. The transport may deliver
// data before the actor that opened the channel has it in hand; credit and
// control given meanwhile are kept and applied once the channel is set.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "transport/exec_channel.hpp"

namespace remex::actors {

class channel_ref {
 public:
  void set(std::shared_ptr<transport::exec_channel> ch);
  void consumed(std::uint32_t s, std::size_t n);
  void write(std::uint32_t s, std::string bytes);
  void close_stream(std::uint32_t s);
  void signal(int signo);
  // Kills the remote process group; remembered if the channel is not set yet.
  void terminate();

 private:
  std::shared_ptr<transport::exec_channel> get();
  std::mutex mtx_;
  std::shared_ptr<transport::exec_channel> ch_;
  std::map<std::uint32_t, std::size_t> pending_credit_;
  bool terminate_pending_ = false;
};

using channel_ref_ptr = std::shared_ptr<channel_ref>;

}  // namespace remex::actors
