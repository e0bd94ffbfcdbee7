// `remex console` input: "CMD ARGS; CMD ARGS" into commands of words.
#pragma once

#include <string>
#include <vector>

namespace remex::cli {

// Splits at ';' into commands and each at blanks into words; empty
// commands are dropped.
std::vector<std::vector<std::string>> split_console_line(
    const std::string& line);

extern const char* console_help;
extern const char* console_usage;

}  // namespace remex::cli
