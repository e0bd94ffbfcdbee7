// N executions of one command through a remexd, over one link: what a
// long-lived CAF client pays per execution on a warm broker.
//   bench-remexd-loop [--at-once] HOST:PORT TOKEN_FILE N TARGET SSH_CONFIG
//   CMD...
// Sequential by default (p50/p99 per execution); --at-once sends all N
// requests before waiting for any (wall time for all, and how many failed):
// the load of N concurrent clients without N CLI start-ups.
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

namespace {

// All n requests in flight at once; each outcome awaited in turn (CAF keeps
// the others in the mailbox meanwhile).
template <class Broker>
int run_at_once(caf::actor_system& sys, const Broker& broker,
                const actors::exec_request& req, int n) {
  caf::scoped_actor self{sys};
  std::vector<actors::endpoints> ends;
  std::vector<decltype(self->request(broker, caf::infinite,
                                     actors::exec_atom::value, req,
                                     actors::endpoints{}))>
      pending;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    ends.push_back(actors::bridge_std_fds(sys, -1, 1, 2));
    pending.push_back(self->request(
        broker, caf::infinite, actors::exec_atom::value, req, ends.back()));
  }
  int failures = 0;
  int worst = 0;
  for (auto& p : pending)
    p.receive(
        [&](const actors::outcome& o) {
          if (o.exit_code() != 0) {
            ++failures;
            worst = std::max(worst, o.exit_code());
          }
        },
        [&](caf::error&) { ++failures; });
  double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  for (auto& e : ends) actors::stop_bridges(e);
  std::printf(
      "%d executions at once: wall %.3f s  failures %d  highest exit code "
      "%d\n",
      n, s, failures, worst);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool at_once = argc > 1 && std::string{argv[1]} == "--at-once";
  if (at_once) {
    --argc;
    ++argv;
  }
  if (argc < 7) {
    std::fprintf(stderr,
                 "usage: bench-remexd-loop [--at-once] HOST:PORT TOKEN N "
                 "TARGET SSH_CONFIG CMD...\n");
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
  if (at_once) return run_at_once(sys, broker, req, n);
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
