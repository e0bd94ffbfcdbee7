// Puts the agent bundle (remex-agent and the libraries beside it) on a host
// once: ~/.cache/remex/agent-<sha256>/, uploaded over SFTP to a temporary
// directory, checked with sha256sum on the host, then renamed into place.
// Another OS/arch is another bundle (files built for it); callers pick the
// bundle from `uname -sm` of the host, and its digest names its directory.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "transport/exec_channel.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

struct agent_bundle {
  std::vector<std::string> files;  // local paths; the first is the program
};

struct agent_placement {
  bool ok = false;
  bool uploaded = false;  // false: found intact (or already checked)
  std::string directory;  // relative to the remote home
  std::string program;    // directory + "/" + name of the first file
  bool missing = false;   // check_agent: not there or not intact; upload
  exit_status failure;    // when !ok && !missing: why (code 255)
};

// sha256 over a manifest of each file's name, size and content: one digest
// for the bundle as a unit. Empty when a file cannot be read.
std::string bundle_digest(const agent_bundle& b);

// Non-blocking, on p's own connection (no new one): checks with sha256sum
// whether the bundle is in place and intact. done runs on p's I/O thread
// with ok (remembered for p), missing (call ensure_agent), or a failure.
void check_agent(session_provider& p, const agent_bundle& b,
                 std::function<void(agent_placement)> done,
                 const std::string& cache_dir = ".cache/remex");

// Blocking (runs its own connection): call it off the actors' threads.
// Results are remembered per provider for the life of the provider.
agent_placement ensure_agent(session_provider& p, const agent_bundle& b,
                             const std::string& cache_dir = ".cache/remex");

}  // namespace remex::transport
