// The running execution: one poll() loop that moves frames from the agent's
// stdin to the child, the child's output to the agent's stdout, and watches
// for the child's end, signals and a dropped link.
#pragma once

#include <string>

#include "protocol/codec.hpp"
#include "tools/remex-agent/child_process.hpp"
#include "tools/remex-agent/frame_io.hpp"

namespace remex::agent {

// Runs until the child ended and its `exit` frame is out, or the link
// dropped (then the child's process group is killed). Returns the agent's
// own exit status.
int run_mux(child_process child, frame_io& io, int signal_fd);

}  // namespace remex::agent
