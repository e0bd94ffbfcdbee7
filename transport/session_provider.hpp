// How bytes reach a host: one implementation per backend (ssh/, local/).
// The seed's SessionProvider: open an exec channel for a command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/exec_channel.hpp"

namespace remex::transport {

// What to run, exactly as the requester gave it.
struct command {
  std::string path;                // looked up in PATH when it has no '/'
  std::vector<std::string> argv;   // argv[0] included
  std::vector<std::string> env;    // "K=V", on top of the remote environment
  std::string cwd;                 // empty: the login directory
  std::vector<std::uint32_t> fds;  // extra fds (3 and up), agent backend only
};

// A host's connections as an operator sees them (remex console hosts and
// stats). Counts are now; opened and lost are since the provider began.
struct host_status {
  std::size_t connections = 0;   // up now
  std::size_t channels = 0;      // open over them now
  std::size_t max_sessions = 0;  // the server's, learned from a refused
                                 // open; 0: not learned (none refused)
  std::size_t queued = 0;        // channel opens waiting for a connection
                                 // or for room under MaxSessions
  std::uint64_t opened = 0;      // connections made
  std::uint64_t lost = 0;        // connections that broke (not closed by us)
  std::string agent_digest;      // sha256 of the agent bundle verified on
                                 // the host; empty: none placed
};

// A connection to the host came up (up) or broke (!up, with why). Called
// on the provider's own thread: pass it on, never block in it.
using connection_watcher = std::function<void(bool up, const std::string& why)>;

// One connection to one host (or this machine). Thread-safe; never blocks the
// caller: connecting, authenticating and opening happen on the provider's own
// I/O thread, and any failure arrives as listener->on_exit(failed).
class session_provider {
 public:
  virtual ~session_provider() = default;

  // Starts command_line the way sshd does (through the user's shell), with env
  // ("K=V") sent as environment requests. Streams 1 and 2 carry stdout and
  // stderr; stream 0 is stdin. Extra fds are not available on a raw channel.
  // Stdin is written only once the server accepted the exec request; a
  // channel whose connection dies before that may be started again on a
  // fresh connection, so command_line must do nothing that matters before it
  // reads its stdin (remex's agents and sh bootstrap wait for theirs).
  virtual std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener) = 0;

  // The host as users name it in messages ("web1", "user@10.0.0.1:2222").
  virtual std::string host() const = 0;

  // Thread-safe, never blocks for long (a short lock): how the host's
  // connections stand. Backends without connections (local) have none.
  virtual host_status status() const { return {}; }

  // Tells w about every connection made or lost from now on; set it once,
  // before the first open_exec.
  virtual void watch_connections(connection_watcher w) { (void)w; }
};

}  // namespace remex::transport
