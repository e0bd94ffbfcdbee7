// `remex run`: one execution through an embedded broker, like `ssh host cmd`.
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// Returns the process exit code (DESIGN.md's table).
int run_command(const std::vector<std::string>& args);

// Where the agent bundle is: $REMEX_AGENT_DIR, else beside this program.
std::string agent_dir();

}  // namespace remex::cli
