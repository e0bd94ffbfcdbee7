// N sequential executions of one command through a remexd, over one link:
// what a long-lived CAF client pays per execution on a warm broker.
//   bench-remexd-loop HOST:PORT TOKEN_FILE N TARGET SSH_CONFIG COMMAND...
#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "actors/fd_bridge.hpp"
#include "node/node_link.hpp"

using namespace remex;

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr,
                 "usage: %s HOST:PORT TOKEN N TARGET SSH_CONFIG CMD...\n",
                 argv[0]);
    return 2;
  }
  std::string addr = argv[1];
  auto colon = addr.rfind(':');
  auto port = static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1)));
  int n = std::stoi(argv[3]);
  actors::exec_request req;
  req.target = argv[4];
  req.connect.ssh_config = argv[5];
  req.argv.assign(argv + 6, argv + argc);
  req.path = req.argv[0];

  caf::actor_system_config cfg;
  node::configure_link(cfg, argv[2]);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  std::string error;
  auto broker = node::connect_broker(sys, addr.substr(0, colon), port, error);
  if (!broker) {
    std::fprintf(stderr, "bench: %s\n", error.c_str());
    return 255;
  }
  std::vector<double> ms;
  int failures = 0;
  caf::scoped_actor self{sys};
  for (int i = 0; i < n; ++i) {
    auto ends = actors::bridge_std_fds(sys, -1, 1, 2);
    auto t0 = std::chrono::steady_clock::now();
    self->request(broker, caf::infinite, actors::exec_atom::value, req, ends)
        .receive(
            [&](const actors::outcome& o) { failures += o.exit_code() != 0; },
            [&](caf::error&) { ++failures; });
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
    actors::stop_bridges(ends);
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * (ms.size() - 1))];
  };
  std::printf(
      "%d executions: p50 %.2f ms  p99 %.2f ms  max %.2f ms  failures %d\n", n,
      at(0.5), at(0.99), ms.back(), failures);
  return failures ? 1 : 0;
}
