// `remex paths`, `remex fs` and `remex cp`: a host's executables and files,
// through the agent's file session (this machine without -H).
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// Each returns the process exit code: 0, 1 when an operation failed (the
// errno text printed like the local tools print it), 255 when the
// connection or the agent failed (or on a usage error).
int paths_command(const std::vector<std::string>& args);
int fs_command(const std::vector<std::string>& args);
int cp_command(const std::vector<std::string>& args);

extern const char* paths_usage;
extern const char* fs_usage;
extern const char* cp_usage;

}  // namespace remex::cli
