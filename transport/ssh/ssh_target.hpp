// Where and how to reach one SSH host: the target as users write it and the
// knobs the ssh backend honours (a subset of ssh(1)'s).
#pragma once

#include <string>
#include <vector>

namespace remex::transport {

struct ssh_options {
  std::vector<std::string> identity_files;  // tried after ssh-agent, in order
  std::string ssh_config;            // -F FILE; empty: ~/.ssh/config + system
  std::string known_hosts;           // empty: ~/.ssh/known_hosts
  bool accept_new_host_key = false;  // record unknown keys instead of refusing
  int connect_timeout_s = 10;        // TCP connect, key exchange and auth
  int keepalive_interval_s = 5;      // idle probe period on live connections
  int keepalive_count_max = 3;       // missed probes before "lost"
  std::string ciphers;               // preference list; empty: fast AEADs first
  int max_connections = 16;  // per host, for servers with a low MaxSessions
};

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
