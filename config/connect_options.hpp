// How remex reaches a host, as a request carries it (inspectable, so it can
// cross the cluster later).
#pragma once

#include <caf/meta/type_name.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace remex::config {

// Everything a session needs to connect.
struct connect_options {
  std::vector<std::string> identities;  // -i FILE, repeatable
  std::string ssh_config;               // -F FILE
  std::string known_hosts;              // --known-hosts FILE
  bool accept_new_host_key = false;
  // 0: the node's default (a daemon's setting, else 10 s and 5 s).
  std::uint32_t connect_timeout_ms = 0;
  std::uint32_t keepalive_ms = 0;
  std::uint32_t max_connections = 0;  // to the host at once; 0: default 16
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connect_options& x) {
  return f(caf::meta::type_name("remex.connect_options"), x.identities,
           x.ssh_config, x.known_hosts, x.accept_new_host_key,
           x.connect_timeout_ms, x.keepalive_ms, x.max_connections);
}

}  // namespace remex::config
