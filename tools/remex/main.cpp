// remex: the command line. Subcommands are thin layers over the actors.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/remex/run_command.hpp"
#include "tools/remex/run_options.hpp"

namespace {

const char* usage =
    "usage: remex COMMAND [ARGS...]\n"
    "  run     run one command on a host (or this machine), like ssh host cmd\n"
    "see 'remex run --help'\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-h")) {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 255 : 0;
  }
  std::string sub = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (sub == "run") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(remex::cli::run_usage, stdout);
      return 0;
    }
    return remex::cli::run_command(args);
  }
  std::fprintf(stderr, "remex: unknown command '%s'\n%s", sub.c_str(), usage);
  return 255;
}
