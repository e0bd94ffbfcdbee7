// What a node's broker is configured with: where the agent bundle is, the
// kill ladder of its executions, how long an unused host connection stays
// warm, how many executions may run at once, and the connection settings a
// request that names none gets. (How it reaches hosts, the provider factory,
// is code, not a setting: it stays with spawn_broker in actors/broker.hpp.)
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "config/agent_settings.hpp"
#include "config/connect_options.hpp"
#include "config/supervisor_settings.hpp"

namespace remex::config {

struct broker_settings {
  agent_settings agent;
  supervisor_settings supervision;
  // A session (connection, checked agent) nobody used for this long closes.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
  std::size_t max_executions = 0;  // running at once; 0: no limit
  // Fills what a request leaves empty: identities, ssh config, known hosts;
  // accept_new_host_key holds when either side says so.
  connect_options connect_defaults;
  // Records every execution a request does not record itself into this
  // folder, one file per execution; empty: none.
  std::string record_dir;
  // Globs of env names whose values are secrets, added to every request's
  // (beside config::default_secret_env(), always in force).
  std::vector<std::string> secret_env;
  // Host groups, name → host list (config/host_groups.hpp), for requesters
  // that ask (remex fanout -g); checked before they get here.
  std::map<std::string, std::string> host_groups;
  // This node's name among its peers, and the targets it runs itself
  // (globs); a request for any other target goes to a peer that serves it.
  std::string node_name;
  std::vector<std::string> serves{"*"};
  // Where peers and clients reach this node (HOST:PORT), for consoles;
  // empty: nowhere (an embedded broker).
  std::string listen_address;
};

}  // namespace remex::config
