// One persistent agent process and the raw channel to it: says `hello`,
// learns whether the agent runs many executions (it answers `hello`) or is a
// seed agent (it answers only the probe behind the hello), sends each
// execution's exec frame with its xid once the agent has room, and hands the
// agent's frames to the execution they name. When the agent ends, every
// execution on it ends failed(lost, 255). (protocol/PERSISTENT.md)
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "transport/multiplexed_exec.hpp"

namespace remex::transport {

struct agent_link_options {
  std::size_t max_executions = 256;  // proposed; the agent may lower it
  std::size_t window = 0;            // per stream; 0: credit_window()
};

class agent_link : public exec_link,
                   public std::enable_shared_from_this<agent_link> {
 public:
  // What the link tells its owner (on the raw channel's I/O thread).
  struct events {
    // The agent did not answer hello: these executions (in order) need
    // agents of their own.
    std::function<void(std::vector<std::shared_ptr<multiplexed_exec>>)> seed;
    // The link is over (the agent ended or never started).
    std::function<void(agent_link*)> ended;
  };

  agent_link(std::string host, agent_link_options opt, events ev);
  // Starts the agent; call once, right after construction.
  void start(session_provider& provider, const std::string& command_line);

  // Runs x on this agent as soon as it has room; on a seed agent, hands it
  // to events::seed. False when the link has ended (x untouched).
  bool add(std::shared_ptr<multiplexed_exec> x);
  // Closes the agent's stdin: it ends what still runs and exits.
  void close();

  bool multi() const;
  std::size_t running() const;
  std::size_t max_executions() const;

  // exec_link
  void send(std::string encoded) override;
  void abandon(std::uint32_t xid) override;

  // The raw channel's events.
  void raw_open(std::shared_ptr<exec_channel> raw);
  void raw_data(std::uint32_t s, std::string bytes);
  void raw_exit(const exit_status& st);

 private:
  enum class state { starting, multi, seed, ended };

  void handle(protocol::frame& f);
  // Moves waiting executions onto the agent while it has room.
  void admit();
  void end_all(const exit_status& st);

  std::string host_;
  agent_link_options opt_;
  events ev_;
  std::mutex admit_mtx_;  // one admission at a time (config next to exec)
  mutable std::mutex mtx_;
  state state_ = state::starting;
  std::shared_ptr<exec_channel> raw_;
  bool raw_done_ = false;
  std::string unsent_;  // before the raw channel opened
  std::uint32_t next_xid_ = 1;
  std::size_t max_ = 0;     // the agent's answer
  std::size_t window_ = 0;  // the agent's answer
  std::deque<std::shared_ptr<multiplexed_exec>> waiting_;
  std::map<std::uint32_t, std::shared_ptr<multiplexed_exec>> running_;
  std::optional<protocol::agent_config> last_cfg_;  // last sent
  // The raw channel's I/O thread only:
  protocol::frame_decoder decoder_;
};

}  // namespace remex::transport
