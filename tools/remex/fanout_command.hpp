// remex fanout: one command on many hosts at once.
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// args: what follows "fanout" on the command line (plus --broker and
// --token-file given before it). Ends the process.
int fanout_command(const std::vector<std::string>& args);

extern const char* fanout_usage;

}  // namespace remex::cli
