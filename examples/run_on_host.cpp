// run_on_host: runs one command on a host through a remexd, the way any CAF
// program can (built against the installed package, see CMakeLists.txt).
//
//   run_on_host [--broker HOST:PORT] [--token-file F] TARGET COMMAND [ARG...]
//
// TARGET is an ssh_config alias or [user@]host[:port] as remexd's ssh
// settings resolve it; "local" (or "") is remexd's own machine. Output goes
// to stdout and stderr as it arrives, stdin is forwarded, and "exit code N"
// ends stderr. Exits with the command's code (128+N for signal N), or 255
// when the command could not run or remexd cannot be reached.
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "actors/fd_bridge.hpp"
#include "actors/interfaces.hpp"
#include "config/daemon_settings.hpp"
#include "node/node_link.hpp"
#include "node/token_file.hpp"

using namespace remex;

int main(int argc, char** argv) {
  std::string broker = "127.0.0.1:7411";  // remexd's default listen address
  std::string token = config::default_token_file();  // where remexd made it
  bool bad = false;
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
    std::string option = argv[i];
    bad |= option != "--broker" && option != "--token-file";
    (option == "--broker" ? broker : token) = argv[i + 1];
  }
  auto colon = broker.rfind(':');
  char* end = nullptr;
  auto port = colon == std::string::npos
                  ? 0
                  : std::strtoul(broker.c_str() + colon + 1, &end, 10);
  if (bad || argc - i < 2 || port == 0 || port > 65535 || *end != '\0') {
    std::fprintf(stderr,
                 "usage: run_on_host [--broker HOST:PORT] "
                 "[--token-file F] TARGET COMMAND [ARG...]\n");
    return 255;
  }
  actors::exec_request req;
  req.target = std::string{argv[i]} == "local" ? "" : argv[i];
  req.argv.assign(argv + i + 1, argv + argc);
  req.path = req.argv[0];  // looked up in the host's PATH, like ssh would

  // OpenSSL, given an unreadable token, would abort on an I/O thread.
  if (auto why = node::token_file_problem(token); !why.empty()) {
    std::fprintf(stderr, "run_on_host: %s\n", why.c_str());
    return 255;
  }
  // A reader that goes away (| head -1) fails the stdout bridge's write,
  // which the outcome reports, instead of killing us: main still returns.
  std::signal(SIGPIPE, SIG_IGN);
  caf::actor_system_config cfg;
  node::configure_client_link(cfg, token);  // middleman, TLS, message types
  caf::actor_system sys{cfg};

  std::string error;  // why connect_broker failed, in one line
  auto remexd = node::connect_broker(sys, broker.substr(0, colon),
                                     static_cast<std::uint16_t>(port), error);
  if (!remexd) {
    std::fprintf(stderr, "run_on_host: broker %s: %s\n", broker.c_str(),
                 error.c_str());
    return 255;
  }
  // Actors on this node that read and write our fds; the broker's pumps
  // talk to them with credit, so a slow stdout slows the command, no more.
  auto ends =
      actors::bridge_std_fds(sys, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO);
  int code = 255;
  caf::scoped_actor self{sys};
  self->request(remexd, caf::infinite, actors::exec_atom::value, req, ends)
      .receive(
          [&](const actors::outcome& o) {
            code = o.exit_code();
            if (o.kind == actors::outcome::failed)
              std::fprintf(stderr, "run_on_host: %s: %s\n",
                           req.host_label().c_str(), o.message.c_str());
          },
          [&](const caf::error&) {  // remexd or the link died mid-way
            std::fprintf(stderr, "run_on_host: broker %s: connection lost\n",
                         broker.c_str());
          });
  // The outcome comes after the last byte of output was written. remexd
  // holds handles to our bridges: end them, or the actor system waits for
  // them forever when it shuts down at the end of main.
  actors::stop_bridges(ends);
  std::fprintf(stderr, "exit code %d\n", code);
  return code;
}
