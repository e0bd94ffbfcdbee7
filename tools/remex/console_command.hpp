// remex console: the admin console of a remexd cluster (issue 11).
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// args: after "console". Returns the exit code: 0, 1 when a command was
// refused or a node did not answer, 255 when no remexd is reached.
int console_command(const std::vector<std::string>& args);

}  // namespace remex::cli
