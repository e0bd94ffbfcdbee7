// remex-agent: runs one command for a remex broker, speaking the agent
// protocol on stdin/stdout. Self-contained: no CAF, no spdlog.
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tools/remex-agent/child_process.hpp"
#include "tools/remex-agent/env_policy.hpp"
#include "tools/remex-agent/file_ops.hpp"
#include "tools/remex-agent/frame_io.hpp"
#include "tools/remex-agent/multi_mux.hpp"
#include "tools/remex-agent/mux.hpp"
#include "tools/remex-agent/path_enum.hpp"

extern char** environ;

using namespace remex;
using namespace remex::agent;

// Most stream bytes held for an execution that has not started yet.
constexpr std::size_t early_window = 1024 * 1024;

namespace {

// Why the session before a command ended without one.
enum class stop_reason { input_closed, bad_input, link_dropped };

// Waits for the next whole frame before the command runs. Returns false when
// stdin ended, broke, carried garbage, or the agent was told to stop; why is
// in `why`.
bool next_frame(frame_io& io, int signal_fd, protocol::frame& f,
                stop_reason& why) {
  for (;;) {
    auto st = io.decoder.next(f);
    if (st == protocol::frame_decoder::status::frame) return true;
    if (st == protocol::frame_decoder::status::error) {
      io.send(protocol::make_error("bad frame: " + io.decoder.error_message()));
      why = stop_reason::bad_input;
      return false;
    }
    if (io.out_broken) {
      why = stop_reason::link_dropped;
      return false;
    }
    if (io.in_closed) {
      // Half a frame and then the end is a frame cut short, not a clean
      // end of the session.
      if (io.decoder.buffered() > 0) {
        io.send(protocol::make_error("bad frame: input ended inside a frame (" +
                                     std::to_string(io.decoder.buffered()) +
                                     " bytes)"));
        why = stop_reason::bad_input;
      } else {
        why = stop_reason::input_closed;
      }
      return false;
    }
    pollfd fds[2] = {{0, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      why = stop_reason::link_dropped;
      return false;
    }
    if (fds[1].revents) {
      unsigned char b;
      bool stop = false;
      while (::read(signal_fd, &b, 1) == 1) stop = stop || b != SIGCHLD;
      if (stop) {
        why = stop_reason::link_dropped;
        return false;
      }
    }
    if (fds[0].revents) io.read_stdin();
  }
}

// Ends an execution that never started: the reason, then its exit code, so
// the peer gets the `exit` every execution ends with.
int fail_exec(frame_io& io, const std::string& message, int code) {
  io.send(protocol::make_error(message));
  io.send(protocol::make_exit(code));
  io.flush_all();
  return 0;
}

int run_exec(frame_io& io, int signal_fd, const protocol::agent_config& cfg,
             const protocol::exec_msg& x, file_ops& files,
             std::vector<protocol::frame> early) {
  child_process child;
  spawn_failure failure;
  if (!start_command(cfg, x, child, failure))
    return fail_exec(io, failure.message, failure.exit_code);
  return run_mux(child, io, signal_fd, files, std::move(early));
}

}  // namespace

int main() {
  // Orphaned grandchildren come back to us to be reaped (pid 1 may not reap),
  // so a finished group really is empty when the agent checks.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  // Frames of up to a megabyte come and go all the time: they stay on the
  // heap, instead of being mapped and unmapped (page faults, zeroing) for
  // every frame, and freed memory is kept for the next.
  ::mallopt(M_MMAP_THRESHOLD, 8 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
  size_pipes();
  int signal_fd = install_signal_pipe();
  if (signal_fd < 0) return 2;
  frame_io io;
  file_ops files;
  protocol::agent_config cfg;
  // Stream frames that came ahead of their exec: held (up to one window) and
  // handed to the execution in order, so no input byte is lost to a peer
  // that pipelines.
  std::vector<protocol::frame> early;
  std::size_t early_bytes = 0;
  protocol::frame f;
  stop_reason why = stop_reason::input_closed;
  bool stop = false;
  while (!stop && next_frame(io, signal_fd, f, why)) {
    switch (f.t) {
      case protocol::frame_type::config:
        // A later config replaces an earlier one as a whole: each says the
        // complete policy, and an absent `cfg` is the empty (zero) one.
        cfg = f.cfg.value_or(protocol::agent_config{});
        for (auto& bad : bad_env_patterns(cfg))
          io.send_log(
              protocol::log_warn,
              "env pattern is not a valid regex, it matches nothing: " + bad);
        io.flush_all();
        break;
      case protocol::frame_type::exec:
        // An exec without `x` is the zero exec message: it fails to start
        // like any other without a path, with an error and an exit.
        return run_exec(io, signal_fd, cfg, f.x.value_or(protocol::exec_msg{}),
                        files, std::move(early));
      case protocol::frame_type::path_query: {
        std::vector<std::string> dirs;
        if (f.q) dirs = f.q->paths;
        if (dirs.empty()) {
          // The agent's own $PATH as it is: empty (or unset, as Go's
          // Getenv sees it) lists nothing, empty elements are skipped.
          auto* path = std::getenv("PATH");
          dirs = split_path(path ? path : "");
        }
        protocol::frame info;
        info.t = protocol::frame_type::path_info;
        std::vector<std::pair<std::string, int>> unreadable;
        info.i = enumerate_executables(dirs, &unreadable);
        // Skipped directories are said as warnings (a log frame each, which
        // every peer understands) before the answer.
        for (auto& [dir, err] : unreadable)
          io.send(protocol::make_log(
              protocol::log_warn, "unreadable directory",
              {"dir=" + dir, std::string("err=") + std::strerror(err)}));
        io.send(info);
        io.flush_all();
        return io.out_broken ? 3 : 0;
      }
      case protocol::frame_type::file_op: {
        io.send(files.answer(f));
        io.flush_all();
        break;
      }
      case protocol::frame_type::data:
      case protocol::frame_type::eof:
        // Each frame costs its head too, so a flood of empty ones is
        // bounded as well.
        early_bytes += f.d.size() + 64;
        if (early_bytes > early_window) {
          io.send(protocol::make_error("bad frame order: more than " +
                                       std::to_string(early_window) +
                                       " bytes of stream frames before exec"));
          why = stop_reason::bad_input;
          stop = true;
          break;
        }
        early.push_back(std::move(f));
        break;
      case protocol::frame_type::hello:
        // A broker that knows the extension: from here on the agent runs
        // many executions, each with its xid (protocol/PERSISTENT.md).
        // REMEX_AGENT_SEED_ONLY makes it the seed's agent again, which
        // ignores the frame (brokers then start one agent per execution).
        if (!std::getenv("REMEX_AGENT_SEED_ONLY"))
          return run_multi(io, signal_fd, files, cfg,
                           f.hi.value_or(protocol::hello_msg{}));
        [[fallthrough]];
      default:
        // Forward compatibility: a newer broker may send frames we do not
        // know; a signal before exec has no process to go to.
        io.send_log(protocol::log_warn,
                    std::string("ignored frame before exec: ") +
                        protocol::to_string(f.t) + " (type " +
                        std::to_string(static_cast<std::uint64_t>(f.t)) + ")");
        io.flush_all();
        break;
    }
    f = protocol::frame{};
  }
  io.flush_all();
  // stdin closing ends a file session normally; garbage does not, and being
  // told to stop (or losing stdout) is a dropped link.
  switch (why) {
    case stop_reason::input_closed:
      return 0;
    case stop_reason::bad_input:
      return 2;
    case stop_reason::link_dropped:
      return 3;
  }
  return 0;
}
