// Command-line options of `remex fanout`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/exec_request.hpp"
#include "config/host_groups.hpp"
#include "tools/remex/run_options.hpp"

namespace remex::cli {

enum class fanout_mode { stream, collate, json };

// One -H, -w, -g or -x, in the order given: a host list whose items may be
// groups ("@web"; -g web is "@web").
struct host_term {
  std::string list;
  bool exclude = false;
};

struct fanout_plan {
  std::vector<host_term> selection;
  bool uses_groups = false;        // an "@name" anywhere in the selection
  std::string hosts_file;          // --hosts-file; empty: the default
  std::vector<std::string> hosts;  // labels: "local" is this machine
  actors::exec_request base;       // everything but the target
  std::size_t width = 64;
  fanout_mode mode = fanout_mode::stream;
  bool live_progress = false;
};

// Parses argv after "fanout" into plan (the selection checked for syntax,
// not yet expanded) and o (connection, broker and log options, as remex run
// has them). Empty when fine, else one line naming the problem. Prints the
// usage and exits 0 for --help.
std::string parse_fanout_options(const std::vector<std::string>& args,
                                 fanout_plan& plan, run_options& o);

// Expands plan.selection with groups into plan.hosts (those of -x left out)
// and checks every host is a target. Empty when fine, else one line.
std::string resolve_hosts(fanout_plan& plan, const config::host_groups& groups);

}  // namespace remex::cli
