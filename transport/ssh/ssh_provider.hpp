// The libssh backend: a session_provider for one host. Connections (libssh
// sessions) and their channels all live on the provider's one I/O thread;
// connecting runs on short-lived connector threads and hands the session over.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "transport/session_provider.hpp"
#include "transport/ssh/ssh_connect.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::transport {

// target: `[user@]host[:port]` or an ssh_config Host alias. Never fails here:
// an unusable target or host fails each open_exec with failure_kind connect.
std::shared_ptr<session_provider> make_ssh_provider(std::string target,
                                                    ssh_options opts = {});

// What the provider's connections negotiated (empty before the first one).
struct ssh_link_info {
  std::string cipher_in;
  std::string cipher_out;
  int connections = 0;  // connections opened so far
};
ssh_link_info describe_link(session_provider& p);

// For blocking helpers (agent transfer): a fresh authenticated session to the
// provider's host with the provider's options, owned by the caller.
connect_result connect_like(session_provider& p);

// Remote paths verified on this provider's host, kept for its lifetime.
bool remembered(session_provider& p, const std::string& key);
void remember(session_provider& p, const std::string& key);

}  // namespace remex::transport
