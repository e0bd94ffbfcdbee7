#include "tools/remex-agent/mux.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "protocol/limits.hpp"

namespace remex::agent {

namespace {

using protocol::frame;
using protocol::frame_type;

// Most bytes queued toward one side before the other side stops being read.
constexpr std::size_t window = 1024 * 1024;
constexpr std::size_t read_chunk = protocol::max_data_chunk;
constexpr auto kill_grace = std::chrono::seconds(2);
// After the command exited, how long a signal gives what is left of its
// group (background jobs holding its output) before SIGKILL.
constexpr auto leftover_grace = std::chrono::seconds(1);

// One endpoint toward the child: its stdin pipe, stdout/stderr pipes, or the
// agent's end of an extra fd's socketpair (both directions).
struct endpoint {
  std::uint32_t stream = 0;
  int fd = -1;
  bool readable = false;     // child → agent still open
  bool writable = false;     // agent → child still open
  bool close_after = false;  // peer sent eof: close/shutdown once drained
  byte_queue to_child;
};

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

class mux {
 public:
  mux(child_process child, frame_io& io, int signal_fd, file_ops& files)
      : child_(child), io_(io), signal_fd_(signal_fd), files_(files) {
    add(0, child.stdin_fd, false, true);
    add(1, child.stdout_fd, true, false);
    add(2, child.stderr_fd, true, false);
    for (auto& [n, fd] : child.extra) add(n, fd, true, true);
    set_nonblocking(0);
    set_nonblocking(1);
  }

  int run(std::vector<frame> early) {
    for (auto& f : early) handle(f);
    while (!done()) {
      if (!poll_once()) return drop_link(bad_input_ ? 2 : 3);
    }
    for (std::uint32_t s : {1u, 2u}) {
      auto& e = eps_.at(s);
      if (e.readable) {
        e.readable = false;
        io_.send(protocol::make_eof(s));
      }
    }
    finish_extra_fds();
    io_.send(protocol::make_exit(exit_code()));
    io_.flush_all();
    // The peer has everything; what is left of the group (background jobs
    // that outlived the command) is not allowed to outlive the agent.
    ::close(1);
    terminate_group();
    return 0;
  }

 private:
  void add(std::uint32_t s, int fd, bool r, bool w) {
    endpoint e;
    e.stream = s;
    e.fd = fd;
    e.readable = r;
    e.writable = w;
    set_nonblocking(fd);
    eps_.emplace(s, std::move(e));
  }

  std::size_t queued_to_child() const {
    std::size_t n = 0;
    for (auto& [s, e] : eps_) n += e.to_child.size();
    return n;
  }

  bool done() const {
    // Like sshd: the exit goes out once the child is gone and its stdout and
    // stderr are closed (everything it wrote has been read). A background
    // job that keeps them open holds the exit back, as it holds ssh's, and
    // what it writes later still arrives.
    return reaped_ && !eps_.at(1).readable && !eps_.at(2).readable;
  }

  int exit_code() const {
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return WEXITSTATUS(status_);
  }

  // Returns false when the link dropped.
  bool poll_once() {
    // Frames that arrived with the exec frame (or before the child's input
    // queue had room) are still in the decoder: handle them before waiting.
    if (!handle_frames()) return false;
    std::vector<pollfd> fds;
    std::vector<std::uint32_t> which;  // stream per entry; special below
    constexpr std::uint32_t agent_in = 0xFFFFFFF0, agent_out = 0xFFFFFFF1,
                            sig = 0xFFFFFFF2;
    bool out_room = io_.out.size() < window;
    if (!io_.in_closed && queued_to_child() < window) {
      fds.push_back({0, POLLIN, 0});
      which.push_back(agent_in);
    }
    if (!io_.out.empty()) {
      fds.push_back({1, POLLOUT, 0});
      which.push_back(agent_out);
    }
    fds.push_back({signal_fd_, POLLIN, 0});
    which.push_back(sig);
    for (auto& [s, e] : eps_) {
      short ev = 0;
      if (e.readable && out_room) ev |= POLLIN;
      if (e.writable && !e.to_child.empty()) ev |= POLLOUT;
      if (ev) {
        fds.push_back({e.fd, ev, 0});
        which.push_back(s);
      }
    }
    auto rc = ::poll(fds.data(), fds.size(), poll_timeout_ms());
    if (rc < 0 && errno != EINTR) return false;
    if (leftovers_deadline_ &&
        std::chrono::steady_clock::now() >= *leftovers_deadline_) {
      ::kill(-child_.pid, SIGKILL);
      leftovers_deadline_.reset();
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      auto re = fds[i].revents;
      if (!re) continue;
      if (which[i] == agent_in) {
        io_.read_stdin();
        if (!handle_frames()) return false;
        if (io_.in_closed) return false;
      } else if (which[i] == agent_out) {
        io_.flush();
        if (io_.out_broken) return false;
      } else if (which[i] == sig) {
        if (!handle_signals()) return false;
      } else {
        auto& e = eps_.at(which[i]);
        if (re & (POLLOUT | POLLERR) && e.writable) write_child(e);
        if (re & (POLLIN | POLLHUP | POLLERR) && e.readable) read_child(e);
      }
    }
    io_.flush();
    return !io_.out_broken;
  }

  bool handle_frames() {
    frame f;
    while (queued_to_child() < window) {
      auto st = io_.decoder.next(f);
      if (st == protocol::frame_decoder::status::need_more) return true;
      if (st == protocol::frame_decoder::status::error) {
        io_.send(
            protocol::make_error("bad frame: " + io_.decoder.error_message()));
        bad_input_ = true;
        return false;
      }
      handle(f);
    }
    return true;
  }

  void handle(frame& f) {
    switch (f.t) {
      case frame_type::data: {
        auto i = eps_.find(f.s);
        if (i == eps_.end() || !i->second.writable || i->second.close_after ||
            f.s == 1 || f.s == 2)
          return;  // nowhere to go (closed or not a requested fd): dropped
        i->second.to_child.push(f.d);
        write_child(i->second);
        break;
      }
      case frame_type::eof: {
        auto i = eps_.find(f.s);
        if (i == eps_.end() || f.s == 1 || f.s == 2) return;
        i->second.close_after = true;
        if (i->second.to_child.empty()) close_write(i->second);
        break;
      }
      case frame_type::signal:
        if (f.sig <= 0 || f.sig >= NSIG) break;
        ::kill(-child_.pid, static_cast<int>(f.sig));
        // The command is gone and only what it left behind holds its
        // output: nobody is left to act on the signal, so the rest of the
        // group gets a moment and then SIGKILL. A signal always ends the
        // wait.
        if (reaped_)
          leftovers_deadline_ =
              std::chrono::steady_clock::now() + leftover_grace;
        break;
      case frame_type::file_op: {
        // Out of order (file ops belong to a file session), but a request
        // is never left without its answer.
        io_.send(files_.answer(f));
        break;
      }
      default:
        io_.send_log(protocol::log_warn,
                     std::string("ignored frame of type ") +
                         std::to_string(static_cast<std::uint64_t>(f.t)) +
                         " during an execution");
    }
  }

  void write_child(endpoint& e) {
    if (!e.writable) return;
    if (!e.to_child.flush_to(e.fd)) {
      // The child closed its end (EPIPE): what is queued can never arrive.
      e.to_child.clear();
      close_write(e);
      return;
    }
    if (e.to_child.empty() && e.close_after) close_write(e);
  }

  void close_write(endpoint& e) {
    if (!e.writable) return;
    e.writable = false;
    if (e.stream == 0)
      ::close(e.fd);
    else
      ::shutdown(e.fd, SHUT_WR);
    maybe_close(e);
  }

  // Returns false when nothing was there to read (EAGAIN).
  bool read_child(endpoint& e) {
    auto n = ::read(e.fd, readbuf_.data(), readbuf_.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    if (n <= 0) {
      e.readable = false;
      io_.send(protocol::make_eof(e.stream));
      maybe_close(e);
      return true;
    }
    protocol::encode_data_head(e.stream, static_cast<std::size_t>(n),
                               io_.out.tail());
    io_.out.push(readbuf_.data(), static_cast<std::size_t>(n));
    return true;
  }

  // At the end: what extra fds still hold is sent, then their EOF, since the
  // command that could write more is gone.
  void finish_extra_fds() {
    for (auto& [s, e] : eps_) {
      if (s < 3 || !e.readable) continue;
      // Bounded: a leftover writer on the socket must not keep us here.
      for (int rounds = 0; rounds < 16 && e.readable && read_child(e);
           ++rounds) {
        if (io_.out.size() >= window) io_.flush_all();
      }
      if (e.readable) {
        e.readable = false;
        io_.send(protocol::make_eof(s));
      }
    }
  }

  void maybe_close(endpoint& e) {
    if (!e.readable && !e.writable && e.fd >= 0) {
      if (e.stream != 0) ::close(e.fd);
      e.fd = -1;
    }
  }

  // Returns false when the agent itself was told to stop.
  bool handle_signals() {
    unsigned char b;
    bool stop = false;
    while (::read(signal_fd_, &b, 1) == 1) {
      if (b == SIGCHLD)
        reap();
      else
        stop = true;
    }
    return !stop;
  }

  // The agent is a child subreaper: orphaned grandchildren come back to it
  // and are reaped here too, so none lingers as a zombie that would make the
  // group look alive.
  void reap() {
    int st = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) {
      if (pid == child_.pid && !reaped_) {
        reaped_ = true;
        status_ = st;
      }
    }
  }

  // The broker is gone: no orphans. TERM the group, KILL it after a grace.
  int drop_link(int status) {
    io_.flush();  // an error frame, if any, may still reach a live peer
    terminate_group();
    return status;
  }

  // Ends what is left of the group; then its guard may go. A group that
  // survives even SIGKILL (stuck in the kernel) keeps its guard, which
  // tries once more when the agent exits.
  void terminate_group() {
    reap();
    if (group_alive()) {
      ::kill(-child_.pid, SIGTERM);
      wait_group_gone(kill_grace);
    }
    if (group_alive()) {
      ::kill(-child_.pid, SIGKILL);
      wait_group_gone(std::chrono::seconds(1));
    }
    if (!group_alive()) release_guard(child_.guard);
  }

  template <class Duration>
  void wait_group_gone(Duration grace) {
    auto until = std::chrono::steady_clock::now() + grace;
    for (;;) {
      reap();
      if (!group_alive() || std::chrono::steady_clock::now() >= until) return;
      ::usleep(5 * 1000);
    }
  }

  bool group_alive() const { return ::kill(-child_.pid, 0) == 0; }

  int poll_timeout_ms() const {
    if (!leftovers_deadline_) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *leftovers_deadline_ - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count() + 1));
  }

  child_process child_;
  frame_io& io_;
  int signal_fd_;
  file_ops& files_;
  bool bad_input_ = false;  // the session ends because of malformed input
  std::map<std::uint32_t, endpoint> eps_;
  std::vector<char> readbuf_ = std::vector<char>(read_chunk);
  bool reaped_ = false;
  std::optional<std::chrono::steady_clock::time_point> leftovers_deadline_;
  int status_ = 0;
};

}  // namespace

int run_mux(child_process child, frame_io& io, int signal_fd, file_ops& files,
            std::vector<protocol::frame> early) {
  mux m{child, io, signal_fd, files};
  return m.run(std::move(early));
}

}  // namespace remex::agent
