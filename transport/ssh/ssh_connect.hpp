// Opening one authenticated libssh session: config, TCP, key exchange, the
// strict host key check and public key authentication. Blocking, so it runs
// on a connector thread; the session then moves to the provider's I/O thread.
#pragma once

#include <libssh/libssh.h>

#include <functional>
#include <string>
#include <vector>

#include "config/ssh_options.hpp"
#include "transport/exec_channel.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::transport {

struct connect_result {
  ssh_session session = nullptr;  // connected and authenticated, or null
  exit_status failure;            // when session is null
  // Lines for the user (a host key recorded): the caller hands them to
  // whoever waits for the connection (channel_listener::on_notice).
  std::vector<std::string> notices;
};

// display names the host in messages, as the user wrote it. A named
// opts.ssh_config must be readable.
connect_result connect_ssh(const ssh_target& target,
                           const config::ssh_options& opts,
                           const std::string& display);

// OpenSSH-style strictness: known key → ok; changed (or of another type) →
// always a failure naming the host and known_hosts file (and line, when it
// can be found); unknown → a failure unless opts.accept_new_host_key, which
// records the key and says so in one notice line. connect_ssh sets
// accept_new_host_key also when the ssh config's StrictHostKeyChecking is
// accept-new or no: the config may let a new key in, never a changed one.
// Whatever libssh's StrictHostKeyChecking option says is overridden.
bool check_host_key(ssh_session s, const config::ssh_options& opts,
                    const std::string& display, exit_status& failure,
                    std::vector<std::string>& notices);

}  // namespace remex::transport
