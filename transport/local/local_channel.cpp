#include "transport/local/local_channel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace remex::transport {

namespace {

constexpr std::size_t read_chunk = 128 * 1024;
// How long a group gets between SIGTERM and SIGKILL on terminate().
constexpr std::chrono::milliseconds kill_grace{2000};
// After terminate(), how long pipes held open by surviving members of the
// group may delay the exit report.
constexpr std::chrono::milliseconds orphan_pipe_grace{1000};
// After the command exited, how long a signal gives what is left of its
// group (background jobs holding its output) before SIGKILL.
constexpr std::chrono::milliseconds leftover_grace{1000};

std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  std::vector<std::string> order;
  auto add = [&](const std::string& kv) {
    auto eq = kv.find('=');
    auto key = kv.substr(0, eq);
    if (!vars.count(key)) order.push_back(key);
    vars[key] = kv;
  };
  for (char** e = environ; e && *e; ++e) add(*e);
  for (auto& kv : extra) add(kv);
  std::vector<std::string> out;
  for (auto& k : order) out.push_back(vars[k]);
  return out;
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

local_channel::local_channel(std::shared_ptr<poll_loop> loop,
                             std::shared_ptr<channel_listener> l)
    : loop_(std::move(loop)), listener_(std::move(l)) {
  out_[0].stream = 1;
  out_[1].stream = 2;
}

local_channel::~local_channel() {
  for (int fd : {in_fd_, out_[0].fd, out_[1].fd, pidfd_})
    if (fd >= 0) ::close(fd);
  if (guard_.armed()) {
    // The owner of a command that was never released is going away:
    // closing the write end has the guard kill the group. It exits at once
    // after that, so this wait is short.
    ::close(guard_.fd);
    ::waitpid(guard_.pid, nullptr, 0);
  }
}

std::shared_ptr<local_channel> local_channel::start(
    std::shared_ptr<poll_loop> loop, std::vector<std::string> argv,
    std::vector<std::string> env, std::shared_ptr<channel_listener> l) {
  std::shared_ptr<local_channel> ch{new local_channel(loop, std::move(l))};
  loop->post([ch, argv = std::move(argv), env = std::move(env)] {
    ch->spawn(argv, env);
  });
  return ch;
}

void local_channel::spawn(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env) {
  listener_->on_open(shared_from_this());
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0) {
    auto e = errno;
    reported_ = true;
    listener_->on_exit(exit_status::failed_with(
        failure_kind::spawn, 255,
        std::string("local: cannot create pipes: ") + std::strerror(e)));
    return;
  }
  // Bigger pipes mean fewer wakeups per megabyte.
  ::fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  // Like sshd's children: only stdin, stdout and stderr, never fds that
  // happen to be open in this process (they belong to the requester).
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The child starts with default dispositions and nothing blocked, whatever
  // this process (which blocks signals for sigwait) has set.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  auto envs = merged_env(env);
  for (auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  auto rc =
      ::posix_spawn(&pid_, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_fd_ = in[1];
  out_[0].fd = out[0];
  out_[1].fd = err[0];
  if (rc != 0) {
    pid_ = -1;
    reported_ = true;
    release();
    listener_->on_exit(exit_status::failed_with(
        failure_kind::spawn, rc == ENOENT ? 127 : 126,
        "local: cannot start " + argv[0] + ": " + std::strerror(rc)));
    return;
  }
  // Right after the spawn: should this process die while the command
  // runs, SIGKILL included, the guard ends the command's whole group.
  if (!start_group_guard(pid_, guard_)) {
    auto e = errno;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    reported_ = true;
    release();
    listener_->on_exit(exit_status::failed_with(
        failure_kind::spawn, 255,
        std::string("local: cannot start the process group guard: ") +
            std::strerror(e)));
    return;
  }
  // A pollable handle on the child: no SIGCHLD handler in a CAF process.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  for (int fd : {in_fd_, out_[0].fd, out_[1].fd}) set_nonblocking(fd);
  auto self = shared_from_this();
  in_watch_ = loop_->watch(
      in_fd_,
      [this] {
        return static_cast<short>(in_fd_ >= 0 && !in_queue_.empty() ? POLLOUT
                                                                    : 0);
      },
      [self](short) { self->on_stdin_writable(); });
  for (int i = 0; i < 2; ++i)
    out_[i].watch = loop_->watch(
        out_[i].fd,
        [this, i] {
          auto& o = out_[i];
          return static_cast<short>(
              o.fd >= 0 && o.unconsumed < credit_window() ? POLLIN : 0);
        },
        [self, i](short) { self->on_output(i); });
  pid_watch_ = loop_->watch(
      pidfd_, [this] { return static_cast<short>(reaped_ ? 0 : POLLIN); },
      [self](short) { self->on_child_exit(); });
}

void local_channel::on_stdin_writable() {
  while (!in_queue_.empty() && in_fd_ >= 0) {
    auto& front = in_queue_.front();
    auto n =
        ::write(in_fd_, front.data() + in_offset_, front.size() - in_offset_);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      // The command closed its stdin: what is queued can never arrive.
      std::size_t dropped = 0;
      for (auto& q : in_queue_) dropped += q.size();
      dropped -= in_offset_;
      in_queue_.clear();
      in_offset_ = 0;
      close_stdin();
      listener_->on_drained(0, dropped);
      return;
    }
    in_offset_ += static_cast<std::size_t>(n);
    listener_->on_drained(0, static_cast<std::size_t>(n));
    if (in_offset_ == front.size()) {
      in_queue_.pop_front();
      in_offset_ = 0;
    }
  }
  if (in_queue_.empty() && in_close_requested_) close_stdin();
}

void local_channel::close_stdin() {
  if (in_fd_ < 0) return;
  loop_->unwatch(in_watch_);
  ::close(in_fd_);
  in_fd_ = -1;
}

void local_channel::on_output(int idx) {
  auto& o = out_[idx];
  if (o.fd < 0) return;
  std::string buf;
  buf.resize(read_chunk);
  auto n = ::read(o.fd, buf.data(), buf.size());
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    loop_->unwatch(o.watch);
    ::close(o.fd);
    o.fd = -1;
    listener_->on_eof(o.stream);
    maybe_report_exit();
    return;
  }
  buf.resize(static_cast<std::size_t>(n));
  o.unconsumed += buf.size();
  listener_->on_data(o.stream, std::move(buf));
}

void local_channel::on_child_exit() {
  if (reaped_) return;
  int status = 0;
  auto rc = ::waitpid(pid_, &status, WNOHANG);
  if (rc == 0) return;
  reaped_ = true;
  wstatus_ = status;
  loop_->unwatch(pid_watch_);
  maybe_report_exit();
  if (!reported_ && terminating_) force_close_after_grace();
}

// The exit is reported once stdout and stderr are closed, as sshd does, so
// no output is lost: a background job that keeps them open holds the exit
// back, as it holds ssh's. Only after terminate() are the pipes cut, once
// the command is reaped and a grace has passed.
void local_channel::force_close_after_grace() {
  auto self = shared_from_this();
  loop_->after(orphan_pipe_grace, [self] {
    if (self->reported_) return;
    bool held_back = false;
    for (int i = 0; i < 2; ++i) {
      auto& o = self->out_[i];
      // After terminate() nobody wants the rest: cut without reading.
      while (o.fd >= 0 &&
             (self->terminating_ || o.unconsumed < credit_window())) {
        if (self->terminating_) {
          self->loop_->unwatch(o.watch);
          ::close(o.fd);
          o.fd = -1;
          self->listener_->on_eof(o.stream);
          break;
        }
        std::string buf(read_chunk, '\0');
        auto n = ::read(o.fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          self->loop_->unwatch(o.watch);
          ::close(o.fd);
          o.fd = -1;
          self->listener_->on_eof(o.stream);
          break;
        }
        buf.resize(static_cast<std::size_t>(n));
        o.unconsumed += buf.size();
        self->listener_->on_data(o.stream, std::move(buf));
      }
      held_back = held_back || o.fd >= 0;
    }
    if (held_back)
      self->force_close_after_grace();
    else
      self->maybe_report_exit();
  });
}

void local_channel::maybe_report_exit() {
  if (reported_ || !reaped_ || out_[0].fd >= 0 || out_[1].fd >= 0) return;
  reported_ = true;
  // After terminate() the group is not over until its SIGKILL went out.
  if (!terminating_) release_guard();
  auto st =
      WIFSIGNALED(wstatus_)
          ? exit_status::killed_by(WTERMSIG(wstatus_), WCOREDUMP(wstatus_))
          : exit_status::exited_with(WEXITSTATUS(wstatus_));
  release();
  listener_->on_exit(st);
}

void local_channel::release() {
  close_stdin();
  in_queue_.clear();
  for (auto& o : out_)
    if (o.fd >= 0) {
      loop_->unwatch(o.watch);
      ::close(o.fd);
      o.fd = -1;
    }
}

// The guard exits without killing; it is reaped once it did, without
// waiting on the loop thread.
void local_channel::release_guard() {
  if (!guard_.armed()) return;
  auto pid = guard_.pid;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  release_group_guard(guard_);
  guard_.pid = -1;
  if (pidfd < 0) {
    ::waitpid(pid, nullptr, 0);  // no pidfd: it exits at once anyway
    return;
  }
  // The loop runs this itself, so a plain pointer to it stays valid (and
  // holding the loop from its own watch would keep it alive forever).
  auto watch = std::make_shared<std::uint64_t>(0);
  auto* loop = loop_.get();
  *watch = loop_->watch(
      pidfd, [] { return static_cast<short>(POLLIN); },
      [loop, watch, pid, pidfd](short) {
        ::waitpid(pid, nullptr, 0);
        loop->unwatch(*watch);
        ::close(pidfd);
      });
}

void local_channel::write(std::uint32_t s, std::string bytes) {
  auto self = shared_from_this();
  loop_->post([self, s, bytes = std::move(bytes)]() mutable {
    if (s != 0 || self->in_fd_ < 0 || self->in_close_requested_) {
      // Nowhere to go (no such stream, or stdin closed): count it as drained
      // so the writer's credit does not leak.
      self->listener_->on_drained(s, bytes.size());
      return;
    }
    if (!bytes.empty()) self->in_queue_.push_back(std::move(bytes));
  });
}

void local_channel::close_stream(std::uint32_t s) {
  auto self = shared_from_this();
  loop_->post([self, s] {
    if (s != 0) return;
    self->in_close_requested_ = true;
    if (self->in_queue_.empty()) self->close_stdin();
  });
}

void local_channel::signal(int signo) {
  auto self = shared_from_this();
  loop_->post([self, signo] {
    if (self->pid_ <= 0 || self->reported_) return;
    ::kill(-self->pid_, signo);
    // The command is gone and only what it left behind holds its output:
    // nobody is left to act on the signal, so the rest of the group gets a
    // moment and then SIGKILL. A signal always ends the wait.
    if (self->reaped_)
      self->loop_->after(leftover_grace, [self] {
        if (!self->reported_) ::kill(-self->pid_, SIGKILL);
      });
  });
}

void local_channel::consumed(std::uint32_t s, std::size_t n) {
  auto self = shared_from_this();
  loop_->post([self, s, n] {
    for (auto& o : self->out_)
      if (o.stream == s) o.unconsumed -= std::min(o.unconsumed, n);
  });
}

void local_channel::terminate() {
  auto self = shared_from_this();
  loop_->post([self] {
    if (self->reported_ || self->terminating_) return;
    self->terminating_ = true;
    self->close_stdin();
    if (self->pid_ <= 0) return;
    // The leader may be gone while members still hold its pipes: those
    // are cut after a grace.
    if (self->reaped_ && self->out_[0].fd < 0 && self->out_[1].fd < 0) return;
    if (self->reaped_) self->force_close_after_grace();
    ::kill(-self->pid_, SIGTERM);
    self->loop_->after(kill_grace, [self] {
      // The group id stays reserved while any member lives, so this cannot
      // hit a stranger.
      ::kill(-self->pid_, SIGKILL);
      self->release_guard();
    });
  });
}

void local_channel::kill() {
  auto self = shared_from_this();
  loop_->post([self] {
    if (self->reported_) return;
    self->terminating_ = true;
    self->close_stdin();
    if (self->pid_ <= 0) return;
    ::kill(-self->pid_, SIGKILL);
    self->release_guard();
    if (self->reaped_) self->force_close_after_grace();
  });
}

}  // namespace remex::transport
