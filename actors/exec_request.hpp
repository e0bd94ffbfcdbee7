// What a requester asks a broker to run, and where (inspectable, so it can
// cross the cluster later).
#pragma once

#include <caf/meta/type_name.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "config/connect_options.hpp"

namespace remex::actors {

// How the command runs on the host: through remex-agent (every feature), or
// a plain exec channel.
enum class backend_kind : std::uint8_t { agent, ssh };

struct exec_request {
  std::string target;  // ssh_config alias or [user@]host[:port]; "" = local
  backend_kind backend = backend_kind::agent;
  std::string path;               // looked up in PATH when it has no '/'
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "K=V"
  std::string cwd;
  std::vector<std::uint32_t> fds;  // extra fds bridged both ways (3 and up)
  std::uint64_t timeout_ms = 0;    // 0: no deadline
  config::connect_options connect;
  std::string record;  // --record FILE (absolute); "" = not recorded
  // Globs of env names whose values are secrets (config/secret_env.hpp):
  // the requester's (--secret-env); the broker adds its own.
  std::vector<std::string> secret_env;

  // The host as messages name it.
  std::string host_label() const { return target.empty() ? "local" : target; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, exec_request& x) {
  return f(caf::meta::type_name("remex.exec_request"), x.target, x.backend,
           x.path, x.argv, x.env, x.cwd, x.fds, x.timeout_ms, x.connect,
           x.record, x.secret_env);
}

}  // namespace remex::actors
