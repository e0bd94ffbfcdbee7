// fd_bridge: couples a local file descriptor to one stream of an execution,
// remote → fd (a sink), fd → remote (a source), or both on one fd (a socket,
// an O_RDWR fd), with credit and half-close. Every requester with real fds
// (the CLI, other CAF programs) builds its endpoints from it; the pumps it
// talks to may live on another node.
//
// Blocking reads and writes run on threads of their own (detached actors),
// never on the scheduler.
//
// A bridge ends by itself once its streams are done: the sink after EOF, a
// failed write or the death of the pump that feeds it; the source after the
// fd's EOF or the death of the input it feeds. A bridge that never heard
// from an execution (it ended before the command ran) ends when its last
// handle goes, which on this node happens once the requester drops its
// endpoints. A handle that went to another node is held by CAF's registry
// until the actor ends: there, call stop_bridges() once the outcome is in,
// or the actor system waits for it at shutdown.
#pragma once

#include <atomic>
#include <caf/actor_system.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "actors/interfaces.hpp"
#include "transport/exec_channel.hpp"

namespace remex::actors {

// output: remote → fd; input: fd → remote; both: one fd, each way.
enum class fd_direction { output, input, both };

// From the fd's access mode (O_WRONLY, O_RDONLY, O_RDWR); empty when fd is
// not open.
std::optional<fd_direction> direction_of(int fd);

// What the bridges of one execution have seen, readable from any thread at
// any time. Shared flags rather than a question by message: whoever asks (a
// signal thread deciding whether a signal ends the program, the code that
// turns the outcome into an exit code) must not wait behind a sink that sits
// in a blocking write to a stalled terminal. One object per execution, not
// per process, so that a program may run several executions at once.
struct bridge_report {
  // Output arrived from the remote side: the command runs.
  std::atomic<bool> output_arrived{false};
  // A sink found its reader gone (EPIPE): a program that ends like a
  // process killed by SIGPIPE (ssh in `ssh host cmd | head -1`) asks here.
  std::atomic<bool> pipe_broken{false};
};

struct fd_bridge_options {
  // At the remote side's EOF, shut down the fd's write side (a socket), or
  // close the fd when it is not a socket and the bridge does not also read
  // it: extra fds, so that their reader sees EOF. Not stdout and stderr,
  // which stay open for the program's own last words.
  bool close_at_eof = false;
  // Bytes read but not yet credited by the remote side, at most (plus one
  // read's worth).
  std::uint64_t window = transport::default_window;
  // Shared by the bridges of one execution; made when empty.
  std::shared_ptr<bridge_report> report;
};

struct fd_bridge {
  sink_actor sink;      // absent for fd_direction::input
  source_actor source;  // absent for fd_direction::output
  std::shared_ptr<bridge_report> report;
};

// The bridge does not own fd: it never closes it except as close_at_eof
// says, and fd must stay open while the bridge runs.
fd_bridge spawn_fd_bridge(caf::actor_system& sys, int fd, fd_direction dir,
                          fd_bridge_options opts = {});

// The usual endpoints of a program with real fds: stdin_fd feeds stream 0,
// stdout_fd and stderr_fd take streams 1 and 2 and stay open at EOF (-1:
// none; output is then discarded, and the remote stdin stays open until the
// command ends: pass /dev/null's fd for an empty stdin), and each extra fd
// N is bridged to stream N in the directions its access mode allows,
// half-closed at EOF.
// Signals are left to the caller. All bridges report into `report`.
endpoints bridge_std_fds(caf::actor_system& sys, int stdin_fd, int stdout_fd,
                         int stderr_fd, const std::vector<int>& extra_fds = {},
                         std::shared_ptr<bridge_report> report = nullptr);

// Ends every sink and source in ends now. For endpoints made of bridges,
// once the outcome is in: nothing flows after it, and a bridge whose handles
// went to another node needs it when the execution never ran.
void stop_bridges(const endpoints& ends);

}  // namespace remex::actors
