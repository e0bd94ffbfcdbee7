// Where one SSH host is: the target as users write it. (How to reach it, the
// knobs the ssh backend honours, is config::ssh_options.)
#pragma once

#include <string>

namespace remex::transport {

// `[user@]host[:port]`, `[user@][v6addr]:port`, or an ssh_config Host alias.
struct ssh_target {
  std::string user;  // empty: from ssh_config, else the local user
  std::string host;
  int port = 0;  // 0: from ssh_config, else 22
};

// Parses text into out; returns what makes it no target (empty, no host,
// bad port, a user or host name OpenSSH would refuse: spaces, a leading '-',
// shell metacharacters), or "" when it is one.
std::string check_ssh_target(const std::string& text, ssh_target& out);

// False when text cannot be a target (check_ssh_target says why).
bool parse_ssh_target(const std::string& text, ssh_target& out);

}  // namespace remex::transport
