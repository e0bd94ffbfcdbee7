#include "tools/remex/console_parse.hpp"

#include <sstream>

namespace remex::cli {

const char* console_help =
    "ps                 running executions across the cluster\n"
    "ps -a              and the recently finished, with their outcome\n"
    "hosts              host connections of every node: channels, opens\n"
    "                   queued, MaxSessions learned, agent digest, last error\n"
    "peers              cluster nodes: address, up/down, since, executions\n"
    "kill ID [SIGNAL]   signal an execution (default TERM); ID as ps shows\n"
    "stats              counters per node (queued: channel opens waiting)\n"
    "watch [SECONDS]    executions started/ended, nodes up/down, host\n"
    "                   connections opened/lost, as they happen, until q,\n"
    "                   Ctrl-C or SECONDS\n"
    "help, quit\n";

const char* console_usage =
    "usage: remex console [--broker HOST:PORT] [--token-file FILE]\n"
    "                     [-c \"CMD[; CMD...]\"] [--json]\n"
    "  without -c: a prompt; commands as 'help' lists them\n";

std::vector<std::vector<std::string>> split_console_line(
    const std::string& line) {
  std::vector<std::vector<std::string>> commands;
  std::stringstream parts(line);
  std::string part;
  while (std::getline(parts, part, ';')) {
    std::istringstream in(part);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (!words.empty()) commands.push_back(std::move(words));
  }
  return commands;
}

}  // namespace remex::cli
