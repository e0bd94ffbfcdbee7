// The persistent agent (protocol/PERSISTENT.md): after a `hello`, one poll()
// loop runs many executions at once, each tagged with its xid, each output
// stream sending only what the broker granted, so one execution whose
// reader is slow never stalls the others on the shared link.
#pragma once

#include "protocol/frame.hpp"
#include "tools/remex-agent/file_ops.hpp"
#include "tools/remex-agent/frame_io.hpp"

namespace remex::agent {

// Concurrent executions when the broker states no cap, and the most it may
// ask for (each costs four descriptors, more with extra fds).
constexpr std::size_t default_max_executions = 256;
constexpr std::size_t hard_max_executions = 4096;

// Answers `hello` (the broker's proposal, clamped to what the agent takes)
// and runs executions until stdin closes or the link drops; every
// execution's process group is gone when it returns. Returns 0 when stdin
// closed with nothing running, 2 after bad input, 3 when the link dropped.
int run_multi(frame_io& io, int signal_fd, file_ops& files,
              protocol::agent_config cfg, const protocol::hello_msg& hello);

}  // namespace remex::agent
