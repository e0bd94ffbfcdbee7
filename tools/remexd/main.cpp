// remexd: one broker node as a daemon. It keeps host connections and agent
// placements warm between requests and serves clients that hold its token
// (node/token_file.hpp) over CAF's middleman with TLS. SIGTERM: stop taking
// requests, let running ones finish within the shutdown grace, kill the
// rest. SIGHUP: read the configuration again.
#include <signal.h>
#include <sys/stat.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "actors/broker.hpp"
#include "actors/peer_directory.hpp"
#include "actors/public_face.hpp"
#include "config/daemon_config.hpp"
#include "config/host_groups.hpp"
#include "node/node_link.hpp"
#include "node/token_file.hpp"
#include "tools/remexd/daemon_log.hpp"
#include "transport/exec_channel.hpp"

namespace {

using namespace remex;

// What this node serves, as peers learn it: plain globs, since a group
// ("@web") is this node's own name for hosts.
std::vector<std::string> served_patterns(const config::daemon_settings& d) {
  std::string unknown;  // checked when the settings were read
  return config::expand_group_patterns(d.serves, d.groups, unknown);
}

config::broker_settings broker_settings_of(const config::daemon_settings& d) {
  config::broker_settings b;
  b.agent.local_dir = config::default_agent_dir();
  b.agent.env_keep = d.agent.env_keep;
  b.agent.env_remove = d.agent.env_remove;
  b.agent.persistent = d.agent.persistent;
  b.agent.max_per_agent = d.agent.max_per_agent;
  b.idle_timeout = d.limits.idle_timeout;
  b.max_executions = d.limits.max_executions;
  auto& c = b.connect_defaults;
  c.identities = d.ssh.identities;
  c.ssh_config = d.ssh.config_file;
  c.known_hosts = d.ssh.known_hosts;
  c.accept_new_host_key = d.ssh.accept_new_host_key;
  c.connect_timeout_ms =
      static_cast<std::uint32_t>(d.ssh.connect_timeout.count());
  c.keepalive_ms = static_cast<std::uint32_t>(d.ssh.keepalive.count());
  c.max_connections = static_cast<std::uint32_t>(d.ssh.max_connections);
  b.record_dir = d.record_dir;
  b.secret_env = d.secret_env;
  b.host_groups = d.groups;
  b.node_name = d.name;
  b.listen_address =
      (d.listen_host.find(':') != std::string::npos ? "[" + d.listen_host + "]"
                                                    : d.listen_host) +
      ":" + std::to_string(d.listen_port);
  b.serves = served_patterns(d);
  return b;
}

// Recordings hold everything commands print: the folder is the user's own.
std::string make_record_dir(const std::string& dir) {
  if (dir.empty() || ::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST)
    return {};
  return "cannot create record-dir " + dir + ": " + std::strerror(errno);
}

// SIGHUP: the same command line, the file read again. What only a restart
// can change is said, not silently ignored.
void reload(const std::vector<std::string>& args,
            config::daemon_settings& current,
            const actors::broker_admin_actor& broker,
            const actors::peer_directory_actor& directory) {
  auto fresh = config::read_daemon_settings(args);
  if (!fresh.settings) {
    // The reader's line starts with "remexd: ", which the log says already.
    auto why = fresh.error.rfind("remexd: ", 0) == 0 ? fresh.error.substr(8)
                                                     : fresh.error;
    daemon::log()->error("SIGHUP: configuration not reloaded: {}", why);
    return;
  }
  auto& s = *fresh.settings;
  if (s.listen_host != current.listen_host ||
      s.listen_port != current.listen_port || s.name != current.name ||
      s.token_file != current.token_file || s.log_file != current.log_file ||
      s.peers != current.peers || s.tls_cert != current.tls_cert ||
      s.tls_key != current.tls_key || s.tls_ca != current.tls_ca)
    daemon::log()->warn(
        "SIGHUP: listen, name, token-file, log-file, peer and tls-* take "
        "effect at the next start; the rest is reloaded");
  if (auto why = make_record_dir(s.record_dir); !why.empty())
    daemon::log()->error("SIGHUP: {}", why);
  daemon::set_log_level(s.log_level);
  transport::set_credit_window(s.limits.credit_window);
  s.listen_host = current.listen_host;
  s.name = current.name;
  caf::anon_send(broker, actors::settings_atom::value, broker_settings_of(s));
  // Peers hear what this node serves now.
  if (auto served = served_patterns(s); served != served_patterns(current))
    caf::anon_send(directory, actors::settings_atom::value, served);
  s.listen_port = current.listen_port;
  s.token_file = current.token_file;
  s.peers = current.peers;
  s.tls_cert = current.tls_cert;
  s.tls_key = current.tls_key;
  s.tls_ca = current.tls_ca;
  s.log_file = current.log_file;
  current = s;
  daemon::log()->info("SIGHUP: configuration reloaded");
}

int serve(const std::vector<std::string>& args, config::daemon_settings d) {
  if (auto why = node::ensure_token_file(d.token_file); !why.empty()) {
    std::fprintf(stderr, "remexd: %s\n", why.c_str());
    return 1;
  }
  if (auto why = make_record_dir(d.record_dir); !why.empty()) {
    std::fprintf(stderr, "remexd: %s\n", why.c_str());
    return 1;
  }
  // OpenSSL failing to load them later would take the process down.
  if (d.tls())
    if (auto why = node::tls_files_problem(d.tls_cert, d.tls_key, d.tls_ca);
        !why.empty()) {
      std::fprintf(stderr, "remexd: %s\n", why.c_str());
      return 1;
    }
  if (auto why = daemon::start_logging(d.log_file, d.log_level); !why.empty()) {
    std::fprintf(stderr, "remexd: %s\n", why.c_str());
    return 1;
  }
  // Notices no requester waits for (an agent upload's own connection).
  transport::set_connect_notice_sink(
      [](const std::string& line) { daemon::log()->warn("{}", line); });
  transport::set_credit_window(d.limits.credit_window);
  node::on_tls_refusal(
      [](const std::string& line) { daemon::log()->warn("{}", line); });
  ::signal(SIGPIPE, SIG_IGN);
  // Blocked before the actor system starts its threads, so that only the
  // sigwait below takes them.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  caf::actor_system_config cfg;
  if (d.tls())
    node::configure_link(cfg, d.tls_cert, d.tls_key, d.tls_ca);
  else
    node::configure_link(cfg, d.token_file);
  // Work-stealing workers that found nothing nap up to 10 ms before they
  // look again: a request would wait for that nap. The sharing policy wakes
  // a worker at once.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto broker = actors::spawn_broker(sys, broker_settings_of(d));
  // Clients and peers get the public face, never the broker itself.
  auto face = actors::spawn_public_face(sys, broker);
  std::string error;
  auto port =
      node::publish_broker(sys, face, d.listen_host, d.listen_port, error);
  if (port == 0) {
    daemon::log()->error("{}", error);
    // From an actor: the broker drops anonymous exits (wire_guard.hpp).
    caf::scoped_actor {
      sys
      } -> send_exit(broker, caf::exit_reason::user_shutdown);
    return 1;
  }
  daemon::log()->info(
      "remexd {} listening on {}:{} ({})", d.name, d.listen_host, port,
      d.tls() ? "TLS, CA " + d.tls_ca : "token " + d.token_file);
  auto directory =
      actors::spawn_peer_directory(sys, {d.name, d.peers, served_patterns(d)},
                                   broker, node::connector(sys), face);
  for (;;) {
    int signo = 0;
    if (sigwait(&sigs, &signo) != 0) continue;
    if (signo == SIGHUP) {
      reload(args, d, broker, directory);
      continue;
    }
    break;
  }
  daemon::log()->info("stopping: no new requests; running ones have {} ms",
                      d.limits.shutdown_grace.count());
  node::unpublish_broker(sys, face, port);
  caf::scoped_actor self{sys};
  self->send_exit(directory, caf::exit_reason::user_shutdown);
  self->request(broker, caf::infinite, actors::shutdown_atom::value,
                caf::timespan{d.limits.shutdown_grace})
      .receive([](bool) {}, [](caf::error&) {});
  self->send_exit(broker, caf::exit_reason::user_shutdown);
  daemon::log()->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto read = remex::config::read_daemon_settings(args);
  if (read.help) {
    std::fputs(remex::config::daemon_usage, stdout);
    return 0;
  }
  if (!read.settings) {
    std::fprintf(stderr, "%s\n", read.error.c_str());
    return 1;
  }
  if (read.check_only) {
    std::printf("remexd: configuration OK\n");
    return 0;
  }
  return serve(args, *read.settings);
}
