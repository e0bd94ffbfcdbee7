// Text as a JSON string, for the --json output of fanout, console, paths and
// fs: one writer, so that every command escapes alike.
#pragma once

#include <string>

namespace remex::cli {

// JSON text of s, quotes included: valid UTF-8 kept, invalid bytes as
// \ufffd, control characters as escapes.
std::string json_string(const std::string& s);

}  // namespace remex::cli
