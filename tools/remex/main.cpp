// remex: the command line. Subcommands are thin layers over the actors.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/remex/console_command.hpp"
#include "tools/remex/fanout_command.hpp"
#include "tools/remex/files_commands.hpp"
#include "tools/remex/replay_command.hpp"
#include "tools/remex/run_command.hpp"
#include "tools/remex/run_options.hpp"

namespace {

const char* usage =
    "usage: remex COMMAND [ARGS...]\n"
    "  run     run one command on a host (or this machine), like ssh host cmd\n"
    "  fanout  run one command on many hosts at once, like pdsh\n"
    "  replay  print what a recorded command printed (run --record FILE)\n"
    "  paths   list the executables a host has (its $PATH, or DIRs)\n"
    "  fs      file operations on a host: ls, stat, mkdir, rm, mv, ln, "
    "chmod,\n"
    "          cat, put\n"
    "  cp      copy files and trees between hosts and this machine, like scp\n"
    "  console the admin console of a remexd cluster: ps, kill, peers, ...\n"
    "--broker HOST[:PORT] and --token-file FILE before COMMAND: run through a\n"
    "remexd (as 'remex run --broker')\n"
    "see 'remex COMMAND --help'\n";

// A closed stdin, stdout or stderr would be reused by the next open() (a
// socket, a pipe), and then remex would read or write the wrong thing. Like
// ssh, put /dev/null there instead.
void sanitise_std_fds() {
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int null = ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null >= 0 && null != fd) {
        ::dup2(null, fd);
        ::close(null);
      }
    }
}

}  // namespace

int main(int argc, char** argv) {
  sanitise_std_fds();
  if (argc < 2 || !std::strcmp(argv[1], "--help") ||
      !std::strcmp(argv[1], "-h")) {
    std::fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 255 : 0;
  }
  // --broker and --token-file may come before the subcommand's name too
  // (remex --broker H:P run ...): they are handed to the subcommand.
  std::vector<std::string> global;
  int at = 1;
  for (; at < argc; ++at) {
    std::string a = argv[at];
    bool with_value = a == "--broker" || a == "--token-file";
    if (with_value && at + 1 < argc) {
      global.push_back(a);
      global.push_back(argv[++at]);
    } else if (a.rfind("--broker=", 0) == 0 ||
               a.rfind("--token-file=", 0) == 0) {
      global.push_back(a);
    } else {
      break;
    }
  }
  if (at >= argc) {
    std::fputs(usage, stderr);
    return 255;
  }
  std::string sub = argv[at];
  std::vector<std::string> args = global;
  args.insert(args.end(), argv + at + 1, argv + argc);
  if (sub == "run") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(remex::cli::run_usage, stdout);
      return 0;
    }
    return remex::cli::run_command(args);
  }
  if (sub == "fanout") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(remex::cli::fanout_usage, stdout);
      return 0;
    }
    return remex::cli::fanout_command(args);
  }
  if (sub == "replay") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::fputs(remex::cli::replay_usage, stdout);
      return 0;
    }
    return remex::cli::replay_command(args);
  }
  if (sub == "paths") return remex::cli::paths_command(args);
  if (sub == "fs") return remex::cli::fs_command(args);
  if (sub == "cp") return remex::cli::cp_command(args);
  if (sub == "console") return remex::cli::console_command(args);
  std::fprintf(stderr, "remex: unknown command '%s'\n%s", sub.c_str(), usage);
  return 255;
}
