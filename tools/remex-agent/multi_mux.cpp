#include "tools/remex-agent/multi_mux.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>

#include "tools/remex-agent/env_policy.hpp"
#include "tools/remex-agent/execution.hpp"

namespace remex::agent {

namespace {

using protocol::frame;
using protocol::frame_type;

constexpr std::size_t min_window = 64 * 1024;
constexpr std::size_t max_window = 64 * 1024 * 1024;
// How long what an ended command left behind gets after TERM before KILL.
constexpr auto leftover_kill_grace = std::chrono::seconds(2);

class multi_mux {
 public:
  multi_mux(frame_io& io, int signal_fd, file_ops& files,
            protocol::agent_config cfg, const protocol::hello_msg& h)
      : io_(io), signal_fd_(signal_fd), files_(files), cfg_(std::move(cfg)) {
    max_ = h.max == 0 ? default_max_executions
                      : std::min<std::size_t>(h.max, hard_max_executions);
    window_ = h.win == 0
                  ? window
                  : std::clamp<std::size_t>(h.win, min_window, max_window);
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);
    ::fcntl(1, F_SETFL, ::fcntl(1, F_GETFL) | O_NONBLOCK);
    ::fcntl(1, F_SETPIPE_SZ, 1 << 20);
    // Every execution holds pipes (and sockets for extra fds): the soft
    // descriptor limit (often 1024) would cap concurrency long before `max_`
    // does.
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
  }

  int run() {
    // One guard for every group, instead of a fork per command; without
    // it (no fork left), each command gets its own as on the seed's path.
    if (!guard_.start())
      io_.send_log(protocol::log_warn,
                   "cannot start the agent's group guard; one per command");
    protocol::hello_msg answer;
    answer.v = protocol::persistent_version;
    answer.caps = {protocol::cap_multi};
    answer.max = max_;
    answer.win = window_;
    io_.send(protocol::make_hello(answer));
    io_.flush();
    for (;;) {
      if (!handle_frames()) return drop_link(2);
      if (io_.in_closed) return drop_link(running_.empty() ? 0 : 3);
      if (!poll_once()) return drop_link(3);
    }
  }

 private:
  struct leftover {
    std::unique_ptr<execution> x;
    clock::time_point kill_at;
    bool killed = false;
  };

  bool poll_once() {
    std::vector<pollfd> fds;
    std::vector<std::uint32_t> streams;
    std::vector<execution*> owners;  // nullptr: the agent's own fds
    auto own = [&](int fd, short ev, std::uint32_t which) {
      fds.push_back({fd, ev, 0});
      streams.push_back(which);
      owners.push_back(nullptr);
    };
    // Input is always read: each execution's input is bounded by the
    // credit it granted, so reading never stalls one for another.
    own(0, POLLIN, poll_agent_in);
    if (!io_.out.empty()) own(1, POLLOUT, poll_agent_out);
    own(signal_fd_, POLLIN, poll_signals);
    bool out_room = io_.out.size() < window_;
    for (auto& [xid, x] : running_) {
      x->want(fds, streams, out_room);
      owners.resize(fds.size(), x.get());
    }
    auto rc = ::poll(fds.data(), fds.size(), timeout_ms());
    if (rc < 0 && errno != EINTR) return false;
    auto now = clock::now();
    for (auto& [xid, x] : running_) x->on_timer(now);
    for (size_t i = 0; i < fds.size(); ++i) {
      auto re = fds[i].revents;
      if (!re) continue;
      if (owners[i]) {
        owners[i]->ready(streams[i], re);
      } else if (streams[i] == poll_agent_in) {
        io_.read_stdin();
      } else if (streams[i] == poll_agent_out) {
        io_.flush();
      } else if (streams[i] == poll_signals) {
        if (!drain_signals(signal_fd_,
                           [this](pid_t pid, int st) { child_ended(pid, st); }))
          return false;
      }
    }
    settle(now);
    io_.flush();
    return !io_.out_broken;
  }

  // Credit owed, executions that ended, leftovers whose time is up.
  void settle(clock::time_point now) {
    std::vector<std::unique_ptr<execution>> ended;
    for (auto i = running_.begin(); i != running_.end();) {
      auto& x = *i->second;
      x.send_credit();
      if (x.take_overrun()) {
        // The broker broke the credit rule for this execution only: it
        // ends (killed), the others go on.
        io_.send(protocol::with_xid(
            protocol::make_error("input beyond the granted credit"), x.xid()));
        ::kill(-x.pid(), SIGKILL);
      }
      if (!x.done()) {
        ++i;
        continue;
      }
      x.finish();
      ended.push_back(std::move(i->second));
      i = running_.erase(i);
    }
    // The exits go out before the groups are looked after: releasing a
    // guard of its own waits for it to exit, which is no reason to hold an
    // exit back.
    if (!ended.empty()) io_.flush();
    for (auto& x : ended) retire(std::move(x), now);
    for (auto i = leftovers_.begin(); i != leftovers_.end();) {
      auto& l = *i;
      if (!l.x->group_alive()) {
        release(*l.x);
        i = leftovers_.erase(i);
        continue;
      }
      if (!l.killed && now >= l.kill_at) {
        ::kill(-l.x->pid(), SIGKILL);
        l.killed = true;
      }
      ++i;
    }
  }

  // The command is over; background jobs it left in its group are not
  // allowed to outlive it (TERM now, KILL after a grace), without holding
  // up the other executions the way the seed's blocking wait would.
  void retire(std::unique_ptr<execution> x, clock::time_point now) {
    if (!x->group_alive()) {
      release(*x);
      return;
    }
    ::kill(-x->pid(), SIGTERM);
    leftovers_.push_back({std::move(x), now + leftover_kill_grace, false});
  }

  // x's group is gone: nobody needs to kill it any more.
  void release(execution& x) {
    release_guard(x.child().guard);
    guard_.forget(x.pid());
  }

  void child_ended(pid_t pid, int st) {
    for (auto& [xid, x] : running_)
      if (x->pid() == pid) return x->child_exited(st);
  }

  int timeout_ms() const {
    std::optional<clock::time_point> next;
    for (auto& [xid, x] : running_)
      if (auto d = x->deadline(); d && (!next || *d < *next)) next = d;
    // Leftover groups are checked now and then: their end is no event.
    if (!leftovers_.empty()) {
      auto soon = clock::now() + std::chrono::milliseconds(20);
      if (!next || soon < *next) next = soon;
    }
    if (!next) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *next - clock::now());
    return static_cast<int>(std::max<std::int64_t>(0, left.count() + 1));
  }

  bool handle_frames() {
    frame f;
    for (;;) {
      auto st = io_.decoder.next(f);
      if (st == protocol::frame_decoder::status::need_more) return true;
      if (st == protocol::frame_decoder::status::error) {
        io_.send(
            protocol::make_error("bad frame: " + io_.decoder.error_message()));
        return false;
      }
      handle(f);
      f = frame{};
    }
  }

  void handle(frame& f) {
    switch (f.t) {
      case frame_type::exec:
        return start(f);
      case frame_type::data:
      case frame_type::eof:
      case frame_type::signal:
      case frame_type::stop:
      case frame_type::credit: {
        // Frames for an execution that has ended (its exit may be on the
        // way) have nowhere to go; that is the normal race, not an error.
        auto i = running_.find(f.xid);
        if (i != running_.end()) i->second->handle(f);
        return;
      }
      case frame_type::config:
        // For the executions that start after it.
        cfg_ = f.cfg.value_or(protocol::agent_config{});
        for (auto& bad : bad_env_patterns(cfg_))
          io_.send_log(
              protocol::log_warn,
              "env pattern is not a valid regex, it matches nothing: " + bad);
        return;
      case frame_type::file_op: {
        frame r;
        r.t = frame_type::file_resp;
        r.frp = files_.handle(f.fop.value_or(protocol::file_op_request{}));
        io_.send(r);
        return;
      }
      default:
        io_.send_log(protocol::log_warn,
                     std::string("ignored frame of type ") +
                         std::to_string(static_cast<std::uint64_t>(f.t)) +
                         " on a persistent agent");
    }
  }

  void fail(std::uint32_t xid, const std::string& why, int code) {
    io_.send(protocol::with_xid(protocol::make_error(why), xid));
    io_.send(protocol::with_xid(protocol::make_exit(code), xid));
  }

  void start(frame& f) {
    auto xid = f.xid;
    if (xid == 0) {
      io_.send(protocol::make_error(
          "exec without an xid on a persistent agent: ignored"));
      return;
    }
    if (running_.count(xid)) {
      io_.send_log(protocol::log_warn, "exec for xid " + std::to_string(xid) +
                                           ", which is still running: ignored");
      return;
    }
    if (running_.size() >= max_)
      return fail(xid,
                  "too many executions on this agent (at most " +
                      std::to_string(max_) + ")",
                  255);
    child_process child;
    spawn_failure failure;
    // The exec is confirmed in the loop (execution::starting): the agent
    // does not wait for one child to exec before serving the others.
    spawn_mode mode;
    mode.shared_guard = guard_.running() ? &guard_ : nullptr;
    mode.confirm_later = true;
    if (!start_command(cfg_, f.x.value_or(protocol::exec_msg{}), child, failure,
                       mode))
      return fail(xid, failure.message, failure.exit_code);
    running_.emplace(
        xid, std::make_unique<execution>(child, io_, files_, xid, window_));
  }

  // The broker is gone (or said nothing more): no orphans, of any
  // execution.
  int drop_link(int status) {
    io_.flush();
    std::vector<execution*> all;
    for (auto& [xid, x] : running_) all.push_back(x.get());
    for (auto& l : leftovers_) all.push_back(l.x.get());
    terminate_groups(all);
    // What survived even SIGKILL stays watched: the guard tries again
    // once the agent has exited.
    for (auto* x : all)
      if (!x->group_alive()) guard_.forget(x->pid());
    return status;
  }

  agent_guard guard_;
  frame_io& io_;
  int signal_fd_;
  file_ops& files_;
  protocol::agent_config cfg_;
  std::size_t max_ = default_max_executions;
  std::size_t window_ = window;
  std::map<std::uint32_t, std::unique_ptr<execution>> running_;
  std::vector<leftover> leftovers_;
};

}  // namespace

int run_multi(frame_io& io, int signal_fd, file_ops& files,
              protocol::agent_config cfg, const protocol::hello_msg& hello) {
  multi_mux m{io, signal_fd, files, std::move(cfg), hello};
  return m.run();
}

}  // namespace remex::agent
