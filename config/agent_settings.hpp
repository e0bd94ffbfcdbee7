// Where this node finds the agent bundle it runs or ships to hosts.
#pragma once

#include <string>

namespace remex::config {

struct agent_settings {
  std::string local_dir;  // folder holding remex-agent and libcbor.so.*
};

}  // namespace remex::config
