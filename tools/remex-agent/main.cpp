// remex-agent: runs one command for a remex broker, speaking the agent
// protocol on stdin/stdout. Self-contained: no CAF, no spdlog.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "tools/remex-agent/child_process.hpp"
#include "tools/remex-agent/env_policy.hpp"
#include "tools/remex-agent/frame_io.hpp"
#include "tools/remex-agent/mux.hpp"
#include "tools/remex-agent/path_enum.hpp"

extern char** environ;

using namespace remex;
using namespace remex::agent;

namespace {

// Waits for the next whole frame before the command runs. Returns false when
// stdin ended, broke, carried garbage, or the agent was told to stop.
bool next_frame(frame_io& io, int signal_fd, protocol::frame& f) {
  for (;;) {
    auto st = io.decoder.next(f);
    if (st == protocol::frame_decoder::status::frame) return true;
    if (st == protocol::frame_decoder::status::error) {
      io.send(protocol::make_error("bad frame: " + io.decoder.error_message()));
      return false;
    }
    if (io.in_closed) return false;
    pollfd fds[2] = {{0, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
    if (fds[1].revents) {
      unsigned char b;
      while (::read(signal_fd, &b, 1) == 1)
        if (b != SIGCHLD) return false;
    }
    if (fds[0].revents) io.read_stdin();
  }
}

int run_exec(frame_io& io, int signal_fd, const protocol::agent_config& cfg,
             const protocol::exec_msg& x) {
  spawn_spec spec;
  // Like a shell: without a separate path, argv[0] names the program.
  spec.path = x.path.empty() && !x.argv.empty() ? x.argv[0] : x.path;
  spec.argv = x.argv;
  spec.env = child_environment(environ, cfg, x.env);
  spec.cwd = x.cwd;
  spec.fds = x.fds;
  for (auto fd : spec.fds)
    if (fd < 3 || fd > 65535) {
      io.send(protocol::make_error("exec: extra fd " + std::to_string(fd) +
                                   " is not in 3..65535"));
      io.send(protocol::make_exit(127));
      io.flush_all();
      return 0;
    }
  child_process child;
  spawn_failure failure;
  if (!spawn_child(spec, child, failure)) {
    io.send(protocol::make_error(failure.message));
    io.send(protocol::make_exit(failure.exit_code));
    io.flush_all();
    return 0;
  }
  return run_mux(child, io, signal_fd);
}

}  // namespace

int main() {
  // Orphaned grandchildren come back to us to be reaped (pid 1 may not reap),
  // so a finished group really is empty when the agent checks.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  int signal_fd = install_signal_pipe();
  if (signal_fd < 0) return 2;
  frame_io io;
  protocol::agent_config cfg;
  protocol::frame f;
  while (next_frame(io, signal_fd, f)) {
    switch (f.t) {
      case protocol::frame_type::config:
        if (f.cfg) cfg = *f.cfg;
        for (auto& bad : bad_env_patterns(cfg))
          io.send_log(
              protocol::log_warn,
              "env pattern is not a valid regex, it matches nothing: " + bad);
        break;
      case protocol::frame_type::exec:
        if (!f.x) {
          io.send(protocol::make_error("exec frame without 'x'"));
          io.flush_all();
          return 2;
        }
        return run_exec(io, signal_fd, cfg, *f.x);
      case protocol::frame_type::path_query: {
        std::vector<std::string> dirs;
        if (f.q) dirs = f.q->paths;
        if (dirs.empty()) {
          auto* path = std::getenv("PATH");
          dirs = split_path(path ? path : "/usr/local/bin:/usr/bin:/bin");
        }
        protocol::frame info;
        info.t = protocol::frame_type::path_info;
        info.i = enumerate_executables(dirs);
        io.send(info);
        io.flush_all();
        return 0;
      }
      case protocol::frame_type::file_op: {
        protocol::frame r;
        r.t = protocol::frame_type::file_resp;
        protocol::file_op_response resp;
        resp.id = f.fop ? f.fop->id : 0;
        resp.er = ENOSYS;
        resp.em = "file operations are not supported by this agent";
        r.frp = resp;
        io.send(r);
        io.flush_all();
        break;
      }
      default:
        // Forward compatibility: a newer broker may send frames we do not
        // know; data/eof/signal before exec have nothing to act on.
        io.send_log(protocol::log_warn,
                    std::string("ignored frame before exec: ") +
                        protocol::to_string(f.t) + " (type " +
                        std::to_string(static_cast<std::uint64_t>(f.t)) + ")");
        io.flush_all();
        break;
    }
  }
  io.flush_all();
  // stdin closing ends a file session normally; garbage does not.
  return io.decoder.error_message().empty() ? 0 : 2;
}
