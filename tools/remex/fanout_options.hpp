// Command-line options of `remex fanout`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/exec_request.hpp"
#include "tools/remex/run_options.hpp"

namespace remex::cli {

enum class fanout_mode { stream, collate, json };

struct fanout_plan {
  std::vector<std::string> hosts;  // labels: "local" is this machine
  actors::exec_request base;       // everything but the target
  std::size_t width = 64;
  fanout_mode mode = fanout_mode::stream;
  bool live_progress = false;
};

// Parses argv after "fanout" into plan (hosts expanded, excluded and
// checked) and o (connection, broker and log options, as remex run has
// them). Empty when fine, else one line naming the problem. Prints the
// usage and exits 0 for --help.
std::string parse_fanout_options(const std::vector<std::string>& args,
                                 fanout_plan& plan, run_options& o);

}  // namespace remex::cli
