// `remex run`: one execution through an embedded broker, like `ssh host cmd`.
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// Returns the process exit code (DESIGN.md's table).
int run_command(const std::vector<std::string>& args);

}  // namespace remex::cli
