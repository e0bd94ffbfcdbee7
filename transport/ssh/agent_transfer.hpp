// Puts the agent bundle (remex-agent and the libraries beside it) on a host
// once: ~/.cache/remex/agent-<sha256>/, uploaded over SFTP to a temporary
// directory, checked with sha256sum on the host, then renamed into place.
// Another OS/arch is another bundle (files built for it); callers pick the
// bundle from `uname -sm` of the host, and its digest names its directory.
#pragma once

#include <functional>
#include <string>

#include "transport/agent_bundle.hpp"
#include "transport/session_provider.hpp"
#include "transport/ssh/ssh_provider.hpp"

namespace remex::transport {

// Non-blocking, on p's own connection (no new one), over any backend:
// checks with sha256sum whether the bundle is in place and intact. done runs
// on p's I/O thread with ok, missing (call ensure_agent), or a failure.
// With memo (an SSH provider's placements()), a placement found there is ok
// at once, and a verified one is added to it.
void check_agent(session_provider& p, const agent_bundle& b,
                 std::function<void(agent_placement)> done,
                 verified_placements* memo = nullptr,
                 const std::string& cache_dir = ".cache/remex");

// Blocking (runs its own connection): call it off the actors' threads.
// Results are remembered in p.placements() for the life of the provider.
agent_placement ensure_agent(ssh_session_provider& p, const agent_bundle& b,
                             const std::string& cache_dir = ".cache/remex");

}  // namespace remex::transport
