// path-query: the executables reachable through PATH-style directories.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "protocol/frame.hpp"

namespace remex::agent {

// Executable regular files (symlinks followed) in dirs, deduplicated by name,
// the first found winning, in dirs order; within a directory by name. An
// entry's path is the cleaned join of dir and name, its mode the permission
// bits. A directory that exists but cannot be read is skipped; when
// unreadable is given, it and its errno are added there (a missing
// directory is common in a PATH and is not).
protocol::path_info enumerate_executables(
    const std::vector<std::string>& dirs,
    std::vector<std::pair<std::string, int>>* unreadable = nullptr);

// Splits a PATH value at ':'. An empty element is skipped (a path query never
// reads it as `.`), unless empty_is_cwd: then it is ".", as execvp has it.
std::vector<std::string> split_path(const std::string& path,
                                    bool empty_is_cwd = false);

// dir and name joined and cleaned lexically like Go's filepath.Join: no
// doubled slashes, no "." elements, ".." folded ("/usr/bin/" + "ls" →
// "/usr/bin/ls", "." + "ls" → "ls").
std::string clean_join(const std::string& dir, const std::string& name);

}  // namespace remex::agent
