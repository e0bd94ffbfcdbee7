// Test helper: runs one command line (from $REMEX_SPAWNER_COMMAND, so that
// only the command's own argv shows it) through the local provider, the way
// remex does in-process, says "started" on stdout once the command printed
// its first line, and then waits to be killed. The test kills it outright
// to see whether the command outlives the process that spawned it.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "tests/transport/recorder.hpp"
#include "transport/local/local_provider.hpp"

int main() {
  auto* line = std::getenv("REMEX_SPAWNER_COMMAND");
  if (!line) {
    std::fprintf(stderr, "REMEX_SPAWNER_COMMAND is not set\n");
    return 2;
  }
  auto provider = remex::transport::make_local_provider();
  auto r = std::make_shared<remex::test::recorder>();
  r->attach(provider->open_exec(line, {}, r));
  if (!r->wait_for(std::chrono::seconds(10),
                   [&] { return !r->out[1].empty() || r->exits > 0; }) ||
      r->exits > 0)
    return 1;
  static const char msg[] = "started\n";
  if (::write(1, msg, sizeof msg - 1) != sizeof msg - 1) return 1;
  for (;;) ::pause();
}
