// Everything remexd is configured with, one member per key of its config file
// (see tools/remexd/remexd.conf.example); the nested groups mirror the file's
// [ssh], [limits], [agent] and [groups] sections. Defaults are the daemon's
// defaults, so a default-constructed daemon_settings is a working
// configuration. Read it from a file and flags with read_daemon_settings
// (config/daemon_config.hpp).
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace remex::config {

// $HOME, or the password database's word when the service manager or cron
// started us without one.
inline std::string home_directory() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir)
    return pw->pw_dir;
  return "/";
}

// Where the node's secret token lives unless told otherwise. The CLI client
// calls this too: both sides must agree without any configuration.
inline std::string default_token_file() {
  // The XDG spec says to ignore a relative XDG_STATE_HOME.
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state == '/')
    return std::string{state} + "/remex/token";
  return home_directory() + "/.local/state/remex/token";
}

inline std::string default_node_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

struct daemon_settings {
  // Off loopback only with all three tls_* files (daemon_config.cpp).
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 7411;
  std::string name = default_node_name();  // this node in the cluster
  std::string token_file = default_token_file();
  std::string log_file;            // empty: stderr
  std::string log_level = "info";  // trace debug info warn error critical off
  // Every execution recorded into this folder (seed recorder format, 0600
  // files); empty: none.
  std::string record_dir;
  std::vector<std::string> secret_env;  // env names (globs) kept secret

  // The cluster: nodes to connect to ("HOST:PORT", in the order routing
  // prefers them) and the targets this node runs itself (globs over the
  // target as the client wrote it).
  std::vector<std::string> peers;
  std::vector<std::string> serves{"*"};
  // TLS with a CA instead of the token: this node's certificate and key, and
  // the CA that every client and peer must be certified by. All or none.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  bool tls() const { return !tls_cert.empty(); }

  struct ssh_group {
    std::string config_file;              // empty: ~/.ssh/config + system
    std::string known_hosts;              // empty: ~/.ssh/known_hosts
    std::vector<std::string> identities;  // tried after ssh-agent, in order
    bool accept_new_host_key = false;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds keepalive{5'000};
    // Connections to one host at once; beyond its MaxSessions channels
    // queue until one frees (a server that allows few sessions).
    std::size_t max_connections = 16;
  } ssh;

  struct limits_group {
    std::size_t max_executions = 256;         // running at once on this node
    std::size_t credit_window = 1024 * 1024;  // bytes in flight per stream
    std::chrono::milliseconds idle_timeout{5 * 60'000};  // unused connection
    std::chrono::milliseconds shutdown_grace{10'000};    // SIGTERM to exit
  } limits;

  struct agent_group {
    std::vector<std::string> env_keep;  // patterns like "LC_*"
    std::vector<std::string> env_remove;
    bool persistent = false;          // one agent per host, many executions
    std::size_t max_per_agent = 256;  // at once on one persistent agent
  } agent;

  // [groups]: name → host list ("web" → "web[01-20]"), each checked to
  // expand (config/host_groups.hpp). Clients ask the broker for them.
  std::map<std::string, std::string> groups;
};

}  // namespace remex::config
