// The libssh backend: a session_provider for one host. Connections (libssh
// sessions) and their channels all live on the provider's one I/O thread;
// connecting runs on short-lived connector threads and hands the session over.
#pragma once

#include <memory>
#include <string>

#include "config/ssh_options.hpp"
#include "transport/agent_bundle.hpp"
#include "transport/session_provider.hpp"
#include "transport/ssh/ssh_connect.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::transport {

// What the provider's connections negotiated (empty before the first one).
struct ssh_link_info {
  std::string cipher_in;
  std::string cipher_out;
  int connections = 0;  // connections opened so far
};

// What an SSH provider offers beyond opening channels. Thread-safe.
class ssh_session_provider : public session_provider {
 public:
  virtual ssh_link_info link_info() const = 0;

  // For blocking helpers (agent transfer): a fresh authenticated session to
  // the provider's host with the provider's options, owned by the caller.
  virtual connect_result connect_like() const = 0;

  // Agent placements verified on this provider's host, kept for its lifetime.
  virtual verified_placements& placements() = 0;
};

// target: `[user@]host[:port]` or an ssh_config Host alias. Never fails here:
// an unusable target or host fails each open_exec with failure_kind connect.
std::shared_ptr<ssh_session_provider> make_ssh_provider(
    std::string target, config::ssh_options opts = {});

}  // namespace remex::transport
