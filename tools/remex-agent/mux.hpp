// The running execution: one poll() loop that moves frames from the agent's
// stdin to the child, the child's output to the agent's stdout, and watches
// for the child's end, signals and a dropped link.
#pragma once

#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "tools/remex-agent/child_process.hpp"
#include "tools/remex-agent/file_ops.hpp"
#include "tools/remex-agent/frame_io.hpp"

namespace remex::agent {

// Runs until the child ended and its `exit` frame is out, or the link
// dropped (then the child's process group is killed). `early` holds stream
// frames that arrived before the exec; they are handled first. File ops
// that arrive meanwhile are answered through `files`. Returns the agent's
// own exit status: 0, 2 after bad input, 3 when the link dropped.
int run_mux(child_process child, frame_io& io, int signal_fd, file_ops& files,
            std::vector<protocol::frame> early);

}  // namespace remex::agent
