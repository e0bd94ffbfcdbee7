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
  char buf[message_size * 256];
  std::size_t have = 0;
  for (;;) {
    auto n = ::read(0, buf + have, sizeof buf - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<std::size_t>(n);
    std::size_t off = 0;
    for (; have - off >= message_size; off += message_size) {
      std::int32_t g;
      std::memcpy(&g, buf + off + 1, sizeof g);
      if (buf[off] == watch_op)
        groups.insert(g);
      else
        groups.erase(g);
    }
    std::memmove(buf, buf + off, have - off);
    have -= off;
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
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
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

bool agent_guard::say(char what, pid_t pgid) {
  if (fd_ < 0) return false;
  char m[message_size];
  m[0] = what;
  std::int32_t g = pgid;
  std::memcpy(m + 1, &g, sizeof g);
  std::size_t off = 0;
  while (off < sizeof m) {
    auto n = ::send(fd_, m + off, sizeof m - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool agent_guard::watch(pid_t pgid) {
  return say(watch_op, pgid);
}

void agent_guard::forget(pid_t pgid) {
  say(forget_op, pgid);
}

}  // namespace remex::agent
