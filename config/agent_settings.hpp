// Where this node finds the agent bundle it runs or ships to hosts, and the
// agent's environment policy.
#pragma once

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

namespace remex::config {

// $REMEX_AGENT_DIR, else the folder of the running program: remex and
// remexd are installed beside remex-agent.
inline std::string default_agent_dir() {
  if (auto* env = std::getenv("REMEX_AGENT_DIR"); env && *env) return env;
  char buf[PATH_MAX];
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

struct agent_settings {
  std::string local_dir;  // folder holding remex-agent and libcbor.so.*
  // The agent's config frame: which variables of its own environment the
  // command keeps or loses (globs, or /regex/; agentproto.md).
  std::vector<std::string> env_keep;
  std::vector<std::string> env_remove;
  // One persistent agent per host connection runs many executions at once
  // (protocol/PERSISTENT.md); off: one agent per execution, the seed's way.
  bool persistent = false;
  // Concurrent executions on one persistent agent; more wait their turn.
  std::size_t max_per_agent = 256;
};

}  // namespace remex::config
