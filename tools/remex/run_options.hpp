// Command-line options of `remex run`.
#pragma once

#include <cstddef>
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
  std::string broker;      // --broker HOST[:PORT]; empty: embedded broker
  std::string token_file;  // --token-file; empty: $REMEX_TOKEN_FILE or default
};

// Parses argv after "run". On a usage error returns nullopt and sets error to
// one line naming the problem.
std::optional<run_options> parse_run_options(
    const std::vector<std::string>& args, std::string& error);

// For subcommands other than run: the connection option at args[i] (-H when
// with_host, -i, -F, --known-hosts, --accept-new-host-key, -v, --broker,
// --token-file), parsed as run
// parses it into o.request.target / o.request.connect / o.log_level; i
// advances past its value. 1 applied, 0 not a connection option, -1 a bad
// value (error says why).
int parse_connection_option(const std::vector<std::string>& args,
                            std::size_t& i, run_options& o, std::string& error,
                            bool with_host = true);

// Like parse_connection_option, for the options that shape the command
// rather than the connection: -b, -e, -C, -t, --broker, --token-file.
int parse_exec_option(const std::vector<std::string>& args, std::size_t& i,
                      run_options& o, std::string& error);

extern const char* run_usage;

}  // namespace remex::cli
