// One execution on a shared (persistent) agent: the exec_channel the actors
// get, the same interface as the seed's one-agent-per-execution channel.
// Until the exec frame is on the link (the agent is still starting, or at its
// cap) the requester's calls wait here in order; on a seed agent that does
// not answer `hello`, the execution runs on an agent of its own and this
// channel forwards to that one (protocol/PERSISTENT.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/frame.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

// What an execution needs from the link that carries it.
class exec_link {
 public:
  virtual ~exec_link() = default;
  // Encoded frames, in order, onto the agent's stdin.
  virtual void send(std::string encoded) = 0;
  // The execution is given up (kill()): its later frames are dropped.
  virtual void abandon(std::uint32_t xid) = 0;
};

class multiplexed_exec : public exec_channel,
                         public std::enable_shared_from_this<multiplexed_exec> {
 public:
  multiplexed_exec(std::shared_ptr<channel_listener> listener,
                   protocol::agent_config cfg, command cmd);

  const protocol::agent_config& config() const { return cfg_; }
  const command& cmd() const { return cmd_; }
  std::uint32_t xid() const { return xid_; }

  // Puts the execution on the link: exec_frames (its exec, with xid), then
  // what the requester did meanwhile. credit_batch: consumed output is
  // granted back in batches of this size.
  // False when it was cancelled meanwhile: nothing was sent.
  bool bind_link(std::shared_ptr<exec_link> link, std::uint32_t xid,
                 std::size_t credit_batch, std::string exec_frames);
  // The seed's way: this execution has an agent (channel) of its own.
  void bind_inner(std::shared_ptr<exec_channel> inner);
  // Before the listener hears from the link: on_open with this channel.
  void opened();

  // A frame of this execution from the agent (the link's I/O thread).
  // Returns true when it was the execution's last (exit).
  bool deliver(protocol::frame& f);
  // The agent's own diagnostics, for everyone running on it.
  void log(int level, std::string message);
  // Ends the execution with st unless it ended already.
  void end(exit_status st);
  bool ended() const;

  // exec_channel
  void write(std::uint32_t s, std::string bytes) override;
  void close_stream(std::uint32_t s) override;
  void signal(int signo) override;
  void consumed(std::uint32_t s, std::size_t n) override;
  void terminate() override;
  void kill() override;

  channel_listener& listener() { return *listener_; }

 private:
  // Runs op now when bound, else when bound (in order). op_mtx_ is held.
  void run(std::function<void()> op);
  void send_frame(const protocol::frame& f);

  std::shared_ptr<channel_listener> listener_;
  protocol::agent_config cfg_;
  command cmd_;
  std::mutex op_mtx_;  // orders the requester's calls
  bool bound_ = false;
  std::vector<std::function<void()>> waiting_;
  std::shared_ptr<exec_link> link_;
  std::shared_ptr<exec_channel> inner_;
  std::uint32_t xid_ = 0;
  std::size_t credit_batch_ = 64 * 1024;
  std::map<std::uint32_t, std::size_t> owed_;  // consumed, not yet granted
  mutable std::mutex end_mtx_;
  bool ended_ = false;
  // The link's I/O thread only:
  std::string error_;
};

}  // namespace remex::transport
