// path-query: the executables reachable through PATH-style directories.
#pragma once

#include <string>
#include <vector>

#include "protocol/frame.hpp"

namespace remex::agent {

// Executable regular files (symlinks followed) in dirs, deduplicated by name,
// the first found winning, in dirs order; within a directory by name.
protocol::path_info enumerate_executables(const std::vector<std::string>& dirs);

// Splits a PATH value at ':'; an empty element means the current directory.
std::vector<std::string> split_path(const std::string& path);

}  // namespace remex::agent
