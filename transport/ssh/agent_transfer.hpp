// Puts the agent bundle (remex-agent and the libraries beside it) on a host
// once: ~/.cache/remex/agent-<sha256>/, uploaded over SFTP to a temporary
// directory, checked with sha256sum on the host, then renamed into place.
// Another OS/arch is another bundle (files built for it); callers pick the
// bundle from `uname -sm` of the host, and its digest names its directory.
#pragma once

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
  exit_status failure;    // when !ok: failure_kind agent, code 255
};

// sha256 over a manifest of each file's name, size and content: one digest
// for the bundle as a unit. Empty when a file cannot be read.
std::string bundle_digest(const agent_bundle& b);

// Blocking (runs its own connection): call it off the actors' threads.
// Results are remembered per provider for the life of the provider.
agent_placement ensure_agent(session_provider& p, const agent_bundle& b,
                             const std::string& cache_dir = ".cache/remex");

}  // namespace remex::transport
