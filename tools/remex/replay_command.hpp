// `remex replay FILE`: what a recorded command printed, again (stdout to
// stdout, stderr to stderr, byte-exact), optionally at its original pace, or
// a list of the recorded commands.
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// Returns 0, or 255 with one line on stderr when FILE is no recording.
int replay_command(const std::vector<std::string>& args);

extern const char* replay_usage;

}  // namespace remex::cli
