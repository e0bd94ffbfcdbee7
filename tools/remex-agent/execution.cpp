#include "tools/remex-agent/execution.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "protocol/limits.hpp"

namespace remex::agent {

namespace {

using protocol::frame;
using protocol::frame_type;

constexpr std::size_t read_chunk = protocol::max_data_chunk;
constexpr auto kill_grace = std::chrono::seconds(2);
// After the command exited, how long a signal gives what is left of its
// group (background jobs holding its output) before SIGKILL.
constexpr auto leftover_grace = std::chrono::seconds(1);

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// One buffer for every execution: the agent reads one fd at a time.
std::vector<char>& readbuf() {
  static std::vector<char> buf(read_chunk);
  return buf;
}

}  // namespace

execution::execution(child_process child, frame_io& io, file_ops& files,
                     std::uint32_t xid, std::size_t credit)
    : child_(child),
      io_(io),
      files_(files),
      xid_(xid),
      initial_credit_(credit) {
  add(0, child.stdin_fd, false, true);
  add(1, child.stdout_fd, true, false);
  add(2, child.stderr_fd, true, false);
  for (auto& [n, fd] : child.extra) add(n, fd, true, true);
}

void execution::add(std::uint32_t s, int fd, bool r, bool w) {
  endpoint e;
  e.stream = s;
  e.fd = fd;
  e.readable = r;
  e.writable = w;
  e.credit = initial_credit_;
  set_nonblocking(fd);
  eps_.emplace(s, std::move(e));
}

void execution::send(frame f) {
  f.xid = xid_;
  io_.send(f);
}

std::size_t execution::queued_to_child() const {
  std::size_t n = 0;
  for (auto& [s, e] : eps_) n += e.to_child.size();
  return n;
}

bool execution::done() const {
  // A failed exec: once the child that reported it is reaped (its group,
  // which never ran anything, is gone with it).
  if (failed_) return reaped_;
  // Like sshd: the exit goes out once the child is gone and its stdout and
  // stderr are closed (everything it wrote has been read). A background
  // job that keeps them open holds the exit back, as it holds ssh's, and
  // what it writes later still arrives.
  return reaped_ && !eps_.at(1).readable && !eps_.at(2).readable;
}

int execution::exit_code() const {
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return WEXITSTATUS(status_);
}

void execution::want(std::vector<pollfd>& fds,
                     std::vector<std::uint32_t>& streams, bool out_room) {
  if (starting()) {
    fds.push_back({child_.exec_status, POLLIN, 0});
    streams.push_back(poll_exec_status);
  }
  for (auto& [s, e] : eps_) {
    short ev = 0;
    if (e.readable && out_room && !starting() && (!multi() || e.credit > 0))
      ev |= POLLIN;
    if (e.writable && !e.to_child.empty()) ev |= POLLOUT;
    if (ev) {
      fds.push_back({e.fd, ev, 0});
      streams.push_back(s);
    }
  }
}

void execution::ready(std::uint32_t s, short re) {
  if (s == poll_exec_status) return confirm_exec();
  auto i = eps_.find(s);
  if (i == eps_.end()) return;
  auto& e = i->second;
  if (re & (POLLOUT | POLLERR) && e.writable) write_child(e);
  if (re & (POLLIN | POLLHUP | POLLERR) && e.readable) read_child(e);
}

void execution::handle(frame& f) {
  switch (f.t) {
    case frame_type::data: {
      auto i = eps_.find(f.s);
      if (i == eps_.end() || !i->second.writable || i->second.close_after ||
          f.s == 1 || f.s == 2) {
        // Nowhere to go (closed or not a requested fd): dropped, and in
        // multi mode granted back, or the writer would wait for ever.
        if (i != eps_.end() && multi()) i->second.written += f.d.size();
        return;
      }
      auto& e = i->second;
      if (overrun_) return;
      e.to_child.push(f.d);
      // A peer that keeps its credit never queues more than a window (plus
      // the chunk in flight); more is a broken peer that would make the
      // agent buffer without bound for everyone.
      if (multi() && e.to_child.size() > initial_credit_ + read_chunk) {
        overrun_ = true;
        e.to_child.clear();
        return;
      }
      write_child(e);
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
      if (reaped_) leftovers_ = clock::now() + leftover_grace;
      break;
    case frame_type::stop:
      // The broker's terminate(): what the seed gets by closing the
      // agent's stdin, for one execution. TERM now, KILL after the grace
      // (through the same timer as leftovers); the exit follows as usual.
      ::kill(-child_.pid, SIGTERM);
      leftovers_ = clock::now() + kill_grace;
      break;
    case frame_type::credit: {
      auto i = eps_.find(f.s);
      if (i != eps_.end())
        i->second.credit = static_cast<std::size_t>(
            std::min<std::uint64_t>(i->second.credit + f.n, 1ull << 40));
      break;
    }
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

void execution::write_child(endpoint& e) {
  if (!e.writable) return;
  auto before = e.to_child.size();
  if (!e.to_child.flush_to(e.fd)) {
    // The child closed its end (EPIPE): what is queued can never arrive.
    e.to_child.clear();
    if (multi()) e.written += before;
    close_write(e);
    return;
  }
  if (multi()) e.written += before - e.to_child.size();
  if (e.to_child.empty() && e.close_after) close_write(e);
}

void execution::close_write(endpoint& e) {
  if (!e.writable) return;
  e.writable = false;
  if (e.stream == 0)
    ::close(e.fd);
  else
    ::shutdown(e.fd, SHUT_WR);
  maybe_close(e);
}

// Returns false when nothing was there to read (EAGAIN) or no credit is left.
bool execution::read_child(endpoint& e) {
  auto& buf = readbuf();
  auto want = buf.size();
  if (multi()) want = std::min(want, e.credit);
  if (want == 0) return false;
  auto n = ::read(e.fd, buf.data(), want);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  if (n <= 0) {
    e.readable = false;
    send(protocol::make_eof(e.stream));
    maybe_close(e);
    return true;
  }
  if (multi()) e.credit -= static_cast<std::size_t>(n);
  protocol::encode_data_head(e.stream, static_cast<std::size_t>(n),
                             io_.out.tail(), xid_);
  io_.out.push(buf.data(), static_cast<std::size_t>(n));
  return true;
}

void execution::confirm_exec() {
  spawn_failure f;
  if (read_exec_status(child_, f) != exec_outcome::failed) return;
  failed_ = f;
  // Nothing ran: no output, no EOFs, no credit; only the failure.
  for (auto& [s, e] : eps_) {
    if (e.fd >= 0) ::close(e.fd);
    e.fd = -1;
    e.readable = e.writable = false;
    e.to_child.clear();
    e.written = 0;
  }
}

void execution::maybe_close(endpoint& e) {
  if (!e.readable && !e.writable && e.fd >= 0) {
    if (e.stream != 0) ::close(e.fd);
    e.fd = -1;
  }
}

void execution::child_exited(int st) {
  if (reaped_) return;
  reaped_ = true;
  status_ = st;
}

void execution::finish() {
  if (failed_) {
    send(protocol::make_error(failed_->message));
    send(protocol::make_exit(failed_->exit_code));
    return;
  }
  for (std::uint32_t s : {1u, 2u}) {
    auto& e = eps_.at(s);
    if (e.readable) {
      e.readable = false;
      send(protocol::make_eof(s));
    }
  }
  finish_extra_fds();
  send_credit();
  send(protocol::make_exit(exit_code()));
  // Whatever is still open toward the child is of no use to anyone now.
  for (auto& [s, e] : eps_) {
    if (e.fd >= 0) ::close(e.fd);
    e.fd = -1;
    e.readable = e.writable = false;
  }
}

// At the end: what extra fds still hold is sent, then their EOF, since the
// command that could write more is gone.
void execution::finish_extra_fds() {
  for (auto& [s, e] : eps_) {
    if (s < 3 || !e.readable) continue;
    // Bounded: a leftover writer on the socket must not keep us here.
    for (int rounds = 0; rounds < 16 && e.readable && read_child(e); ++rounds) {
      if (io_.out.size() >= window) io_.flush_all();
    }
    if (e.readable) {
      e.readable = false;
      send(protocol::make_eof(s));
    }
  }
}

void execution::on_timer(clock::time_point now) {
  if (leftovers_ && now >= *leftovers_) {
    ::kill(-child_.pid, SIGKILL);
    leftovers_.reset();
  }
}

void execution::send_credit() {
  for (auto& [s, e] : eps_)
    if (e.written > 0) {
      io_.send(protocol::make_credit(xid_, s, e.written));
      e.written = 0;
    }
}

bool execution::group_alive() const {
  return ::kill(-child_.pid, 0) == 0;
}

void reap_children(const child_handler& on_child) {
  int st = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &st, WNOHANG)) > 0) on_child(pid, st);
}

bool drain_signals(int signal_fd, const child_handler& on_child) {
  unsigned char b;
  bool stop = false;
  while (::read(signal_fd, &b, 1) == 1) {
    if (b == SIGCHLD)
      reap_children(on_child);
    else
      stop = true;
  }
  return !stop;
}

void terminate_groups(const std::vector<execution*>& xs) {
  auto reap = [&] {
    reap_children([&](pid_t pid, int st) {
      for (auto* x : xs)
        if (x->pid() == pid) x->child_exited(st);
    });
  };
  auto any_alive = [&] {
    for (auto* x : xs)
      if (x->group_alive()) return true;
    return false;
  };
  auto wait_gone = [&](clock::duration grace) {
    auto until = clock::now() + grace;
    for (;;) {
      reap();
      if (!any_alive() || clock::now() >= until) return;
      ::usleep(5 * 1000);
    }
  };
  reap();
  bool sent = false;
  for (auto* x : xs)
    if (x->group_alive()) {
      ::kill(-x->pid(), SIGTERM);
      sent = true;
    }
  if (sent) wait_gone(kill_grace);
  sent = false;
  for (auto* x : xs)
    if (x->group_alive()) {
      ::kill(-x->pid(), SIGKILL);
      sent = true;
    }
  if (sent) wait_gone(std::chrono::seconds(1));
  // A group that survives even SIGKILL (stuck in the kernel) keeps its
  // guard, which tries once more when the agent exits.
  for (auto* x : xs)
    if (!x->group_alive()) release_guard(x->child().guard);
}

}  // namespace remex::agent
