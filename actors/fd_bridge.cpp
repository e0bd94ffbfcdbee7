#include "actors/fd_bridge.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cerrno>
#include <cstring>
#include <string>

namespace remex::actors {

namespace {

// Blocking write of all bytes; handles EINTR and a non-blocking fd.
bool write_all(int fd, const char* p, size_t n, int& err) {
  while (n > 0) {
    auto w = ::write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      pollfd pfd{fd, POLLOUT, 0};
      ::poll(&pfd, 1, -1);
    } else {
      err = errno;
      return false;
    }
  }
  return true;
}

struct sink_state {
  int fd = -1;
  bool close_at_eof = false;
  bool also_read = false;  // the same fd feeds a source of this bridge
  std::shared_ptr<bridge_report> report;
  caf::actor_addr feeder;  // the pump that writes here, once known
  static inline const char* name = "fd_bridge.sink";
};

using sink_ptr = sink_actor::stateful_pointer<sink_state>;

// The pump's death before EOF (its execution torn down, its node gone)
// means nothing more will come: watching it is what lets the sink end
// without the EOF that a torn-down execution never sends.
void watch_feeder(sink_ptr self) {
  auto& st = self->state;
  auto sender = self->current_sender();
  if (!sender || st.feeder) return;
  st.feeder = caf::actor_cast<caf::actor_addr>(sender);
  self->monitor(sender);
}

void half_close(const sink_state& st) {
  if (!st.close_at_eof) return;
  if (::shutdown(st.fd, SHUT_WR) == 0) return;
  // Not a socket: closing is the only EOF its reader can see, unless the
  // source still reads this fd (closing it under a poll() would let the fd
  // number be reused under the reader).
  if (!st.also_read) ::close(st.fd);
}

// Runs detached: write() blocks while the reader is slow, which is the
// point (no reply, no credit, the remote writer waits).
sink_actor::behavior_type fd_sink(sink_ptr self, int fd, bool close_at_eof,
                                  bool also_read,
                                  std::shared_ptr<bridge_report> report) {
  auto& st = self->state;
  st.fd = fd;
  st.close_at_eof = close_at_eof;
  st.also_read = also_read;
  st.report = std::move(report);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.feeder) self->quit();
  });
  return {
      [self](chunk_atom, std::uint32_t s,
             const std::string& bytes) -> caf::result<std::uint64_t> {
        auto& st = self->state;
        watch_feeder(self);
        st.report->output_arrived = true;
        int err = 0;
        if (!write_all(st.fd, bytes.data(), bytes.size(), err)) {
          if (err == EPIPE) st.report->pipe_broken = true;
          // The pump stops sending on an error and never sends EOF.
          self->quit();
          return caf::make_error(caf::sec::runtime_error,
                                 "cannot write stream " + std::to_string(s) +
                                     " to local fd " + std::to_string(st.fd) +
                                     ": " + std::strerror(err));
        }
        return std::uint64_t{bytes.size()};
      },
      [self](eof_atom, std::uint32_t) {
        half_close(self->state);
        self->quit();
        return true;
      },
  };
}

// Reads fd and feeds input, at most `window` bytes ahead of the credit that
// comes back. Ends at the fd's EOF (told to input), when input goes down,
// or when told to exit (its source went).
void fd_reader(caf::blocking_actor* self, int fd, input_actor input,
               std::uint64_t window) {
  self->monitor(input);
  bool running = true;
  std::uint64_t in_flight = 0;
  auto on_credit = [&](credit_atom, std::uint64_t n) {
    in_flight -= std::min(in_flight, n);
  };
  auto on_exit = [&](caf::exit_msg&) { running = false; };
  auto on_down = [&](caf::down_msg&) { running = false; };
  std::string buf(64 * 1024, '\0');
  while (running) {
    // Credit and stop requests first; block only while the window is full.
    if (in_flight >= window) self->receive(on_credit, on_exit, on_down);
    for (bool more = running; more;)
      self->receive(
          on_credit, on_exit, on_down,
          caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    if (!running || in_flight >= window) continue;
    // A bounded wait, so that credit and stop requests are seen while the
    // fd is quiet (a terminal nobody types into).
    pollfd pfd{fd, POLLIN, 0};
    auto rc = ::poll(&pfd, 1, 100);
    if (rc == 0 || (rc < 0 && errno == EINTR)) continue;
    auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      self->send(input, eof_atom::value);
      break;
    }
    in_flight += static_cast<std::uint64_t>(n);
    self->send(input, chunk_atom::value,
               std::string(buf.data(), static_cast<size_t>(n)));
  }
}

struct source_state {
  int fd = -1;
  std::uint64_t window = 0;
  caf::actor reader;  // from the attach on
  static inline const char* name = "fd_bridge.source";
};

// The handle a requester hands over: not blocking, so that a source whose
// execution never ran costs no thread and ends with its last handle. The
// reading starts (on a thread of its own) when the command runs.
source_actor::behavior_type fd_source(
    source_actor::stateful_pointer<source_state> self, int fd,
    std::uint64_t window) {
  self->state.fd = fd;
  self->state.window = window;
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.reader) self->quit();
  });
  return {
      [self](attach_atom, input_actor& input) {
        auto& st = self->state;
        if (st.reader) return;  // one execution per bridge
        st.reader = self->spawn<caf::detached + caf::monitored>(
            fd_reader, st.fd, std::move(input), st.window);
        self->attach_functor([r = st.reader.address()](const caf::error&) {
          caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
        });
      },
      [self](credit_atom, std::uint64_t n) {
        if (self->state.reader)
          caf::anon_send(self->state.reader, credit_atom::value, n);
      },
  };
}

}  // namespace

std::optional<fd_direction> direction_of(int fd) {
  auto fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return std::nullopt;
  switch (fl & O_ACCMODE) {
    case O_WRONLY:
      return fd_direction::output;
    case O_RDWR:
      return fd_direction::both;
    default:
      return fd_direction::input;
  }
}

fd_bridge spawn_fd_bridge(caf::actor_system& sys, int fd, fd_direction dir,
                          fd_bridge_options opts) {
  fd_bridge b;
  b.report =
      opts.report ? std::move(opts.report) : std::make_shared<bridge_report>();
  if (dir != fd_direction::input)
    b.sink = sys.spawn<caf::detached>(fd_sink, fd, opts.close_at_eof,
                                      dir == fd_direction::both, b.report);
  if (dir != fd_direction::output)
    b.source = sys.spawn(fd_source, fd, opts.window);
  return b;
}

endpoints bridge_std_fds(caf::actor_system& sys, int stdin_fd, int stdout_fd,
                         int stderr_fd, const std::vector<int>& extra_fds,
                         std::shared_ptr<bridge_report> report) {
  if (!report) report = std::make_shared<bridge_report>();
  endpoints ends;
  auto add = [&](std::uint32_t s, fd_bridge b) {
    if (b.sink) ends.sinks.emplace(s, std::move(b.sink));
    if (b.source) ends.sources.emplace(s, std::move(b.source));
  };
  fd_bridge_options std_opts;
  std_opts.report = report;
  if (stdin_fd >= 0)
    add(0, spawn_fd_bridge(sys, stdin_fd, fd_direction::input, std_opts));
  if (stdout_fd >= 0)
    add(1, spawn_fd_bridge(sys, stdout_fd, fd_direction::output, std_opts));
  if (stderr_fd >= 0)
    add(2, spawn_fd_bridge(sys, stderr_fd, fd_direction::output, std_opts));
  fd_bridge_options extra_opts = std_opts;
  extra_opts.close_at_eof = true;
  for (auto fd : extra_fds)
    if (auto dir = direction_of(fd))
      add(static_cast<std::uint32_t>(fd),
          spawn_fd_bridge(sys, fd, *dir, extra_opts));
  return ends;
}

void stop_bridges(const endpoints& ends) {
  for (auto& [s, sink] : ends.sinks)
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  for (auto& [s, source] : ends.sources)
    caf::anon_send_exit(source, caf::exit_reason::user_shutdown);
}

}  // namespace remex::actors
