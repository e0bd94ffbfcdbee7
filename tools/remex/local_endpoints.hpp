// The CLI's side of an execution: actors that move bytes between this
// process's file descriptors and the supervisor. Those doing blocking I/O run
// detached (their own thread), never on the scheduler.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <cstdint>

#include "actors/interfaces.hpp"

namespace remex::cli {

// Writes chunks of stream s to fd. Extra fds are shut down (write side) at EOF;
// stdout and stderr stay open for remex's own last words.
actors::sink_actor spawn_fd_sink(caf::actor_system& sys, int fd,
                                 bool close_at_eof);

// True once a sink found its reader gone (EPIPE): remex then ends like a
// process killed by SIGPIPE, as ssh does in `ssh host cmd | head -1`.
bool output_pipe_broken();

// Reads fd once attached and feeds its input_actor, keeping at most one
// credit window in flight; sends EOF at end of input.
actors::source_actor spawn_fd_source(caf::actor_system& sys, int fd);

// True once the remote command runs: the signal relay is attached, or
// output has arrived (the relay then holds signals until it is attached).
bool signals_have_a_target();

// Forwards (signal_atom, n), sent to signals_in by this process's signal
// thread, to the execution's signal target once attached; signals that
// arrive earlier are held until then.
actors::signal_source_actor spawn_signal_relay(caf::actor_system& sys,
                                               caf::actor& signals_in);

}  // namespace remex::cli
