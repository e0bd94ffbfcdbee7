// A shared agent connection for one host: one persistent remex-agent runs
// every execution the host is given (protocol/PERSISTENT.md), each through an
// exec_channel with the same interface as start_agent_exec's, so the actors
// do not change. Executions beyond the agent's cap wait their turn. When the
// agent ends, its executions end failed(lost, 255) and the next open starts
// a new agent. An agent that does not answer `hello` (the seed's) makes this
// host fall back to one agent per execution, for good.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "protocol/frame.hpp"
#include "transport/agent_link.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

class agent_host : public std::enable_shared_from_this<agent_host> {
 public:
  // provider must outlive the host and every channel it hands out.
  static std::shared_ptr<agent_host> make(session_provider& provider,
                                          std::string agent_command_line,
                                          agent_link_options opt = {});
  ~agent_host();

  // Like start_agent_exec (without a recording).
  std::shared_ptr<exec_channel> open(
      const protocol::agent_config& cfg, const command& cmd,
      std::shared_ptr<channel_listener> listener);

  // Closes the agent's stdin: it ends whatever still runs on it.
  void close();

  // For tests and counters: agents started so far; whether the current one
  // runs many executions; whether this host went the seed's way.
  std::size_t agents_started() const;
  bool multi() const;
  bool seed_fallback() const;

 private:
  agent_host(session_provider& provider, std::string cmdline,
             agent_link_options opt);
  std::shared_ptr<agent_link> current();
  void start_alone(const std::shared_ptr<multiplexed_exec>& x);

  session_provider& provider_;
  std::string cmdline_;
  agent_link_options opt_;
  mutable std::mutex mtx_;
  std::shared_ptr<agent_link> link_;
  std::size_t started_ = 0;
  bool seed_ = false;
};

}  // namespace remex::transport
