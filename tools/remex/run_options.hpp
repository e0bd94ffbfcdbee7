// Command-line options of `remex run`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "actors/exec_request.hpp"

namespace remex::cli {

struct run_options {
  actors::exec_request request;
  std::vector<int> pass_fds;  // --pass-fd N
  bool stdin_null = false;    // -n: stdin from /dev/null, like ssh -n
  std::string log_level = "warn";
};

// Parses argv after "run". On a usage error returns nullopt and sets error to
// one line naming the problem.
std::optional<run_options> parse_run_options(
    const std::vector<std::string>& args, std::string& error);

extern const char* run_usage;

}  // namespace remex::cli
