// How bytes reach a host: one implementation per backend (ssh/, local/).
// The seed's SessionProvider: open an exec channel for a command line.
#pragma once

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

// One connection to one host (or this machine). Thread-safe; never blocks the
// caller: connecting, authenticating and opening happen on the provider's own
// I/O thread, and any failure arrives as listener->on_exit(failed).
class session_provider {
 public:
  virtual ~session_provider() = default;

  // Starts command_line the way sshd does (through the user's shell), with env
  // ("K=V") sent as environment requests. Streams 1 and 2 carry stdout and
  // stderr; stream 0 is stdin. Extra fds are not available on a raw channel.
  virtual std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener) = 0;

  // The host as users name it in messages ("web1", "user@10.0.0.1:2222").
  virtual std::string host() const = 0;
};

}  // namespace remex::transport
