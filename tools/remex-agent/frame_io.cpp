#include "tools/remex-agent/frame_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace remex::agent {

void frame_io::read_stdin() {
  // A whole pipe's worth at once (see size_pipes): one read per megabyte.
  static char buf[1024 * 1024];
  auto n = ::read(0, buf, sizeof buf);
  if (n > 0)
    decoder.feed(buf, static_cast<std::size_t>(n));
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    in_closed = true;
}

void frame_io::flush() {
  if (!out_broken && !out.flush_to(1)) out_broken = true;
}

void frame_io::flush_all() {
  while (!out_broken && !out.empty()) {
    flush();
    if (!out.empty()) {
      pollfd p{1, POLLOUT, 0};
      ::poll(&p, 1, 1000);
    }
  }
}

void size_pipes() {
  // sshd's pipes hold 64 KiB: a megabyte frame would cost a context switch
  // per 64 KiB each way. Harmless when they are not pipes (the call fails).
  for (int fd : {0, 1}) ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

namespace {

int signal_pipe[2] = {-1, -1};

void on_signal(int signo) {
  auto saved = errno;
  unsigned char b = static_cast<unsigned char>(signo);
  auto rc = ::write(signal_pipe[1], &b, 1);
  (void)rc;
  errno = saved;
}

}  // namespace

int install_signal_pipe() {
  if (::pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGCHLD, SIGTERM, SIGHUP, SIGINT, SIGQUIT})
    ::sigaction(s, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signal_pipe[0];
}

}  // namespace remex::agent
