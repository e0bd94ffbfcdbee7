// The knobs the ssh backend honours (a subset of ssh(1)'s). No CAF here:
// transport/ssh includes this header.
#pragma once

#include <string>
#include <vector>

namespace remex::config {

struct ssh_options {
  std::vector<std::string> identity_files;  // tried after ssh-agent, in order
  std::string ssh_config;            // -F FILE; empty: ~/.ssh/config + system
  std::string known_hosts;           // empty: ~/.ssh/known_hosts
  bool accept_new_host_key = false;  // record unknown keys instead of refusing
  int connect_timeout_s = 10;        // TCP connect, key exchange and auth
  int keepalive_interval_s = 5;      // idle probe period on live connections
  int keepalive_count_max = 3;       // missed probes before "lost"
  std::string ciphers;       // preference list; empty: ssh_config's, else ours
  int max_connections = 16;  // per host, for servers with a low MaxSessions
};

}  // namespace remex::config
