// Which node runs a target: a node serves the targets that match one of its
// `serves` patterns, globs over the target as the client wrote it (an
// ssh_config alias or [user@]host[:port]).
#pragma once

#include <string>
#include <vector>

namespace remex::actors {

// True when a pattern matches target. An empty target (the node's own
// machine) is served by whichever node the client asked.
bool serves_target(const std::vector<std::string>& patterns,
                   const std::string& target);

}  // namespace remex::actors
