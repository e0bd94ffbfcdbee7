#include "tools/remex/broker_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "actors/broker.hpp"
#include "actors/types.hpp"
#include "config/daemon_settings.hpp"
#include "node/link_watch.hpp"
#include "node/node_link.hpp"
#include "node/token_file.hpp"

namespace remex::cli {

namespace {

std::string from_env(const char* name) {
  auto* v = std::getenv(name);
  return v ? v : "";
}

// HOST, HOST:PORT, [V6]:PORT. Empty when fine.
std::string split_address(const std::string& a, std::string& host,
                          std::uint16_t& port) {
  port = 7411;
  std::string p;
  if (!a.empty() && a[0] == '[') {
    auto close = a.find(']');
    if (close == std::string::npos) return "bad broker address '" + a + "'";
    host = a.substr(1, close - 1);
    if (close + 1 < a.size()) {
      if (a[close + 1] != ':') return "bad broker address '" + a + "'";
      p = a.substr(close + 2);
    }
  } else if (auto colon = a.rfind(':'); colon != std::string::npos) {
    host = a.substr(0, colon);
    p = a.substr(colon + 1);
  } else {
    host = a;
  }
  if (host.empty()) return "bad broker address '" + a + "': no host";
  if (!p.empty()) {
    char* end = nullptr;
    auto n = std::strtoul(p.c_str(), &end, 10);
    if (*end != '\0' || n == 0 || n > 65535)
      return "bad broker address '" + a + "': port must be 1 to 65535";
    port = static_cast<std::uint16_t>(n);
  } else if (a.back() == ':') {
    return "bad broker address '" + a + "': no port";
  }
  return {};
}

// CAF says only "cannot connect"; a plain connect says why (refused, no
// route, unknown host), which is what the user needs. Empty when a TCP
// connection can be made.
std::string why_no_connection(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res))
    return gai_strerror(rc);
  std::string why = "no address";
  for (auto* ai = res; ai && !why.empty(); ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    why = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0
              ? ""
              : std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return why;
}

}  // namespace

std::string broker_client::prepare(const run_options& o,
                                   caf::actor_system_config& cfg) {
  // Idle work-stealing workers poll and nap; for the CLI's few actors the
  // sleeping, shared-queue policy costs about half the CPU per GB moved.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  auto address = o.broker.empty() ? from_env("REMEX_BROKER") : o.broker;
  verbose_ = o.log_level == "debug" || o.log_level == "trace";
  if (address.empty()) {
    actors::add_message_types(cfg);
    return {};
  }
  if (auto why = split_address(address, host_, port_); !why.empty()) return why;
  token_file_ = o.token_file;
  if (token_file_.empty()) token_file_ = from_env("REMEX_TOKEN_FILE");
  if (token_file_.empty()) token_file_ = config::default_token_file();
  // Without a usable token there is nothing to present: refused before any
  // connection, as the broker would refuse it.
  token_problem_ = node::token_file_problem(token_file_);
  if (token_problem_.empty())
    node::configure_client_link(cfg, token_file_);
  else
    actors::add_message_types(cfg);
  return {};
}

bool broker_client::ready(const run_options& o, caf::actor_system_config& cfg) {
  auto why = prepare(o, cfg);
  if (!why.empty()) std::fprintf(stderr, "remex: %s\n", why.c_str());
  return why.empty();
}

actors::broker_actor broker_client::open(caf::actor_system& sys,
                                         std::string& error) {
  if (!remote()) {
    config::broker_settings settings;
    settings.agent.local_dir = config::default_agent_dir();
    // The embedded broker has no settings file: an experiment switch until
    // the persistent agent is the default.
    if (auto* p = std::getenv("REMEX_PERSISTENT_AGENT"); p && *p == '1')
      settings.agent.persistent = true;
    auto broker = actors::spawn_broker(sys, settings);
    liveness_ = caf::actor_cast<caf::actor>(broker);
    return broker;
  }
  if (!token_problem_.empty()) {
    // Nobody there is the first thing to know; else the broker would have
    // refused the handshake.
    if (auto why = why_no_connection(host_, port_); !why.empty()) {
      error = label() + ": cannot connect: " + why;
    } else {
      error = label() + ": access denied";
      if (verbose_) error += " (" + token_problem_ + ")";
    }
    return {};
  }
  auto broker = node::connect_broker(sys, host_, port_, error);
  if (!broker && error == "cannot connect" &&
      why_no_connection(host_, port_).empty()) {
    // TCP gets through, yet CAF said it could not connect: under load its
    // TLS session set-up sometimes fails before the server's refusal is
    // read. Once more tells "access denied" from a port without a broker.
    error.clear();
    broker = node::connect_broker(sys, host_, port_, error);
  }
  if (!broker) {
    if (error == "cannot connect") {
      auto why = why_no_connection(host_, port_);
      error +=
          ": " + (why.empty() ? std::string{"no remex broker there"} : why);
    }
    error = label() + ": " + error;
  } else {
    liveness_ = node::spawn_link_watch(sys, broker);
  }
  return broker;
}

actors::broker_actor broker_client::open_or_exit(caf::actor_system& sys) {
  std::string error;
  auto broker = open(sys, error);
  if (!broker) {
    std::fprintf(stderr, "remex: %s\n", error.c_str());
    std::fflush(stderr);
    std::_Exit(255);
  }
  return broker;
}

std::string broker_client::label() const {
  auto h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "broker " + h + ":" + std::to_string(port_);
}

}  // namespace remex::cli
