#include "transport/shell_command.hpp"

namespace remex::transport {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

namespace {

// Runs beside the command in its process group, ignoring the signals that are
// forwarded to the group, and polls once a second: parent gone while the
// command still runs → kill the group. It ends when the command ends.
const char* orphan_guard =
    "(trap '' INT TERM HUP QUIT USR1 USR2 PIPE; p=$PPID; "
    "while kill -0 $p 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 1; "
    "done; kill -0 $p 2>/dev/null || kill -KILL -$$ 2>/dev/null) "
    "</dev/null >/dev/null 2>&1 & ";

}  // namespace

std::string ssh_command_line(const command& cmd) {
  std::string line = orphan_guard;
  if (!cmd.cwd.empty()) {
    auto dir = shell_quote(cmd.cwd);
    line += "cd -- " + dir + " 2>/dev/null || { echo \"cannot change to " +
            "directory \"" + dir + "\": no such directory or not " +
            "accessible\" >&2; exit 127; }; ";
  }
  line += "exec";
  if (!cmd.env.empty()) {
    line += " env";
    for (auto& kv : cmd.env) line += " " + shell_quote(kv);
  }
  auto path = cmd.path.empty() && !cmd.argv.empty() ? cmd.argv[0] : cmd.path;
  line += " " + shell_quote(path);
  for (size_t i = 1; i < cmd.argv.size(); ++i)
    line += " " + shell_quote(cmd.argv[i]);
  return line;
}

}  // namespace remex::transport
