#include "tools/remex-agent/agent_guard.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>

namespace remex::agent {

namespace {

constexpr char watch_op = 'w';
constexpr char forget_op = 'f';
constexpr std::size_t message_size = 1 + sizeof(std::int32_t);

// The guard's whole life. The agent is single-threaded, so allocating here
// after fork() is safe (unlike in transport/group_guard).
[[noreturn]] void guard_main(int read_fd) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  // Out of the agent's session and group: signals for them miss it.
  ::setsid();
  if (read_fd != 0) ::dup2(read_fd, 0);
  // Nothing else is kept open: not the agent's stdio, pipes or sockets.
  ::syscall(SYS_close_range, 1u, ~0u, 0u);
  std::set<std::int32_t> groups;
  for (;;) {
    // SOCK_SEQPACKET: one message per read, whoever wrote it.
    char m[message_size * 2];
    auto n = ::read(0, m, sizeof m);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (n != static_cast<ssize_t>(message_size)) continue;
    std::int32_t g;
    std::memcpy(&g, m + 1, sizeof g);
    if (m[0] == watch_op)
      groups.insert(g);
    else
      groups.erase(g);
  }
  for (auto g : groups)
    if (g > 1) ::kill(-g, SIGKILL);
  ::_exit(0);
}

}  // namespace

agent_guard::~agent_guard() {
  if (fd_ >= 0) ::close(fd_);
  // Reaped by the agent's reaper (it is the agent's child), or by init
  // once the agent is gone.
}

bool agent_guard::start() {
  int p[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) != 0)
    return false;
  pid_t pid = ::fork();
  if (pid == 0) guard_main(p[0]);
  int fork_errno = errno;
  ::close(p[0]);
  if (pid < 0) {
    ::close(p[1]);
    errno = fork_errno;
    return false;
  }
  pid_ = pid;
  fd_ = p[1];
  return true;
}

bool agent_guard::say(char what, pid_t pgid) const {
  if (fd_ < 0) return false;
  char m[message_size];
  m[0] = what;
  std::int32_t g = pgid;
  std::memcpy(m + 1, &g, sizeof g);
  ssize_t n;
  do n = ::send(fd_, m, sizeof m, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof m);
}

bool agent_guard::watch(pid_t pgid) const {
  return say(watch_op, pgid);
}

void agent_guard::forget(pid_t pgid) const {
  say(forget_op, pgid);
}

}  // namespace remex::agent
