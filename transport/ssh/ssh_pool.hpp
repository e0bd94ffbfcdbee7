// The connections of one ssh provider and their lifecycle: exec requests
// queue here, connections are made on short-lived connector threads and
// handed to the pool's one I/O thread, channels are spread over them up to
// what the server allows (MaxSessions, learned from refused opens), and a
// keepalive tick notices peers that went silent. Like libssh's session.c and
// connector.c, or OpenSSH's clientloop.c.
#pragma once

#include <libssh/libssh.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/ssh_options.hpp"
#include "transport/poll_loop.hpp"
#include "transport/ssh/ssh_channel.hpp"
#include "transport/ssh/ssh_connect.hpp"
#include "transport/ssh/ssh_provider.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::transport::ssh {

// One libssh session. I/O thread only.
struct conn {
  ssh_session session = nullptr;
  ssh_event event = nullptr;
  std::uint64_t watch = 0;
  std::size_t capacity = SIZE_MAX;  // learned from refused channel opens
  std::vector<chan_ptr> chans;
  clock::time_point last_rx;
  clock::time_point last_probe;
  clock::time_point last_close;  // of a channel on it
};

class pool : public chan_owner, public std::enable_shared_from_this<pool> {
 public:
  pool(std::string display, config::ssh_options opts);

  // Starts the keepalive tick; shutdown fails what is left and stops the
  // I/O thread. Both from the provider's thread.
  void start();
  void shutdown();

  // Queues an exec request; its listener hears on_open(channel) first, on
  // the I/O thread. Thread-safe.
  std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener);

  // What the connections negotiated so far. Thread-safe.
  ssh_link_info info();

  // The connections as they stand (host_status without the agent).
  // Thread-safe.
  host_status status();

  // See session_provider::watch_connections. Thread-safe.
  void watch_connections(connection_watcher w);

  // Blocking: a fresh authenticated session with the pool's target and
  // options, owned by the caller.
  connect_result connect_now() const;

  const std::string& display() const { return display_; }

  // chan_owner
  void post(std::function<void()> f) override;
  exit_status fail(failure_kind k, const std::string& what) const override;
  void open_failed(const chan_ptr& c) override;
  void conn_lost(const chan_ptr& c) override;
  void finish(const chan_ptr& c, exit_status st) override;
  void pump_chan(const chan_ptr& c) override;
  std::vector<char>& read_buffer() override { return scratch_; }

 private:
  void submit(chan_ptr c);
  void dispatch();
  void start_connect();
  // cutoff: the last channel submitted when the attempt started.
  void connected(connect_result& r, std::uint64_t cutoff);
  void pump(conn* c);
  // Steps again the channels libssh stirred behind their step's back (it
  // reads the socket inside a flush, a keepalive, another channel's
  // step): nothing else would wake them, since the socket it drained has
  // nothing left for poll() to see.
  void settle();
  void drop_conn(conn* c, exit_status why);
  // Under info_mtx_: status_ as the I/O thread's state now is.
  void update_status();
  void tell_watcher(bool up, const std::string& why);
  void tick();
  bool alive(conn* c) const;
  conn* conn_of(const chan& c) const;  // nullptr once it has none

  std::string display_;
  config::ssh_options opts_;
  ssh_target target_;
  bool target_ok_ = false;
  std::shared_ptr<poll_loop> loop_;
  std::vector<char> scratch_ = std::vector<char>(read_chunk);  // I/O thread
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<conn>> conns_;
  std::deque<chan_ptr> pending_;
  int connecting_ = 0;
  std::uint64_t submitted_ = 0;  // channels ever submitted
  std::mutex info_mtx_;          // guards info_, status_ and watcher_
  ssh_link_info info_;
  host_status status_;
  connection_watcher watcher_;
};

}  // namespace remex::transport::ssh
