#include "transport/group_guard.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace remex::transport {

namespace {

constexpr char done_byte = 'd';

// The guard's whole life. Only async-signal-safe calls: the owner may have
// other threads, whose locks the fork copied in whatever state they were.
[[noreturn]] void guard_main(int read_fd, pid_t pgid) {
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::setsid();
  // The read end becomes 0, everything above it goes: the owner's pipes,
  // sockets, and the write ends of other guards.
  if (read_fd != 0) ::dup2(read_fd, 0);
  if (::syscall(SYS_close_range, 1u, ~0u, 0u) != 0) {
    rlimit rl{};
    int top = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
                      rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20)
                  ? static_cast<int>(rl.rlim_cur)
                  : 65536;
    for (int fd = 1; fd < top; ++fd) ::close(fd);
  }
  char b = 0;
  ssize_t n;
  do n = ::read(0, &b, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1 || b != done_byte) ::kill(-pgid, SIGKILL);
  ::_exit(0);
}

}  // namespace

bool start_group_guard(pid_t pgid, group_guard& out) {
  // A socket pair rather than a pipe: the done byte goes out with
  // MSG_NOSIGNAL, so a guard killed by someone else costs the owner no
  // SIGPIPE. EOF works the same: the read ends once no write end is left.
  int p[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
    return false;
  pid_t pid = ::fork();
  if (pid == 0) guard_main(p[0], pgid);
  int fork_errno = errno;
  ::close(p[0]);
  if (pid < 0) {
    ::close(p[1]);
    errno = fork_errno;
    return false;
  }
  out.pid = pid;
  out.fd = p[1];
  return true;
}

void release_group_guard(group_guard& g) {
  if (g.fd < 0) return;
  // One byte always fits in an empty socket buffer: this never blocks.
  ssize_t n;
  do n = ::send(g.fd, &done_byte, 1, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  ::close(g.fd);
  g.fd = -1;
}

}  // namespace remex::transport
