#include "tools/remex-agent/mux.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "tools/remex-agent/execution.hpp"

namespace remex::agent {

namespace {

using protocol::frame;

class mux {
 public:
  mux(child_process child, frame_io& io, int signal_fd, file_ops& files)
      : x_(child, io, files), io_(io), signal_fd_(signal_fd) {
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
    ::fcntl(1, F_SETFL, ::fcntl(1, F_GETFL) | O_NONBLOCK);
  }

  int run(std::vector<frame> early) {
    for (auto& f : early) x_.handle(f);
    while (!x_.done()) {
      if (!poll_once()) return drop_link(bad_input_ ? 2 : 3);
    }
    x_.finish();
    io_.flush_all();
    // The peer has everything; what is left of the group (background jobs
    // that outlived the command) is not allowed to outlive the agent.
    ::close(1);
    terminate_groups({&x_});
    return 0;
  }

 private:
  // Returns false when the link dropped.
  bool poll_once() {
    // Frames that arrived with the exec frame (or before the child's input
    // queue had room) are still in the decoder: handle them before waiting.
    if (!handle_frames()) return false;
    std::vector<pollfd> fds;
    std::vector<std::uint32_t> which;  // stream per entry, or poll_*
    if (!io_.in_closed && x_.queued_to_child() < window) {
      fds.push_back({0, POLLIN, 0});
      which.push_back(poll_agent_in);
    }
    if (!io_.out.empty()) {
      fds.push_back({1, POLLOUT, 0});
      which.push_back(poll_agent_out);
    }
    fds.push_back({signal_fd_, POLLIN, 0});
    which.push_back(poll_signals);
    x_.want(fds, which, io_.out.size() < window);
    auto rc = ::poll(fds.data(), fds.size(), poll_timeout_ms());
    if (rc < 0 && errno != EINTR) return false;
    x_.on_timer(clock::now());
    for (size_t i = 0; i < fds.size(); ++i) {
      auto re = fds[i].revents;
      if (!re) continue;
      if (which[i] == poll_agent_in) {
        io_.read_stdin();
        if (!handle_frames()) return false;
        if (io_.in_closed) return false;
      } else if (which[i] == poll_agent_out) {
        io_.flush();
        if (io_.out_broken) return false;
      } else if (which[i] == poll_signals) {
        if (!drain_signals(signal_fd_, [this](pid_t pid, int st) {
              if (pid == x_.pid()) x_.child_exited(st);
            }))
          return false;
      } else {
        x_.ready(which[i], re);
      }
    }
    io_.flush();
    return !io_.out_broken;
  }

  bool handle_frames() {
    frame f;
    while (x_.queued_to_child() < window) {
      auto st = io_.decoder.next(f);
      if (st == protocol::frame_decoder::status::need_more) return true;
      if (st == protocol::frame_decoder::status::error) {
        io_.send(
            protocol::make_error("bad frame: " + io_.decoder.error_message()));
        bad_input_ = true;
        return false;
      }
      x_.handle(f);
    }
    return true;
  }

  // The broker is gone: no orphans. TERM the group, KILL it after a grace.
  int drop_link(int status) {
    io_.flush();  // an error frame, if any, may still reach a live peer
    terminate_groups({&x_});
    return status;
  }

  int poll_timeout_ms() const {
    auto d = x_.deadline();
    if (!d) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *d - clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count() + 1));
  }

  execution x_;
  frame_io& io_;
  int signal_fd_;
  bool bad_input_ = false;  // the session ends because of malformed input
};

}  // namespace

int run_mux(child_process child, frame_io& io, int signal_fd, file_ops& files,
            std::vector<protocol::frame> early) {
  mux m{child, io, signal_fd, files};
  return m.run(std::move(early));
}

}  // namespace remex::agent
