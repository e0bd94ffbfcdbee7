#include "tools/remex/local_endpoints.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "transport/exec_channel.hpp"

namespace remex::cli {

using namespace remex::actors;

namespace {

std::atomic<bool> pipe_broken{false};
std::atomic<bool> relay_attached{false};
std::atomic<bool> remote_spoke{false};  // output can come before the attach

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

sink_actor::behavior_type fd_sink(sink_actor::pointer self, int fd,
                                  bool close_at_eof) {
  return {
      [=](chunk_atom, std::uint32_t s,
          const std::string& bytes) -> caf::result<std::uint64_t> {
        remote_spoke = true;
        int err = 0;
        if (!write_all(fd, bytes.data(), bytes.size(), err)) {
          if (err == EPIPE) pipe_broken = true;
          return caf::make_error(caf::sec::runtime_error,
                                 "cannot write stream " + std::to_string(s) +
                                     " to local fd " + std::to_string(fd) +
                                     ": " + std::strerror(err));
        }
        return std::uint64_t{bytes.size()};
      },
      [=](eof_atom, std::uint32_t) {
        if (close_at_eof && ::shutdown(fd, SHUT_WR) != 0) ::close(fd);
        return true;
      },
  };
}

// Speaks source_actor: (attach_atom, input_actor), then credit.
void fd_source(caf::blocking_actor* self, int fd) {
  input_actor input;
  bool running = true;
  self->receive([&](attach_atom, input_actor& target) { input = target; });
  std::uint64_t in_flight = 0;
  std::vector<char> buf(64 * 1024);
  auto handle_credit = [&](credit_atom, std::uint64_t n) {
    in_flight -= std::min(in_flight, n);
  };
  while (running) {
    // Credit and stop requests first; block only while the window is full.
    if (in_flight >= transport::default_window)
      self->receive(handle_credit);
    else
      self->receive(
          handle_credit, caf::after(std::chrono::seconds(0)) >> [] {});
    pollfd pfd{fd, POLLIN, 0};
    auto rc = ::poll(&pfd, 1, 100);
    if (rc == 0 || (rc < 0 && errno == EINTR)) continue;
    auto n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      self->send(input, eof_atom::value);
      running = false;
      break;
    }
    in_flight += static_cast<std::uint64_t>(n);
    self->send(input, chunk_atom::value,
               std::string(buf.data(), static_cast<size_t>(n)));
  }
}

struct relay_state {
  signal_actor target;
  std::vector<std::int32_t> held;
};

// What this process's signal thread sends, plus what the supervisor does.
using signal_relay_actor =
    signal_source_actor::extend<caf::reacts_to<signal_atom, std::int32_t>>;

// Takes the signals held so far as its argument: CAF 0.17 dereferences a
// null argument tuple when a function-based actor is spawned without any.
signal_relay_actor::behavior_type signal_relay(
    signal_relay_actor::stateful_pointer<relay_state> self,
    std::vector<std::int32_t> held) {
  self->state.held = std::move(held);
  return {
      [self](attach_atom, signal_actor& target) {
        relay_attached = true;
        self->state.target = target;
        for (auto n : self->state.held)
          self->send(target, signal_atom::value, n);
        self->state.held.clear();
      },
      [self](signal_atom, std::int32_t n) {
        if (self->state.target)
          self->send(self->state.target, signal_atom::value, n);
        else
          self->state.held.push_back(n);
      },
  };
}

}  // namespace

bool output_pipe_broken() {
  return pipe_broken;
}

bool signals_have_a_target() {
  return relay_attached || remote_spoke;
}

sink_actor spawn_fd_sink(caf::actor_system& sys, int fd, bool close_at_eof) {
  return sys.spawn<caf::detached>(fd_sink, fd, close_at_eof);
}

source_actor spawn_fd_source(caf::actor_system& sys, int fd) {
  // A blocking actor has no typed handle in CAF 0.17: fd_source speaks
  // source_actor's messages by construction.
  return caf::actor_cast<source_actor>(sys.spawn<caf::detached>(fd_source, fd));
}

signal_source_actor spawn_signal_relay(caf::actor_system& sys,
                                       caf::actor& signals_in) {
  auto relay = sys.spawn(signal_relay, std::vector<std::int32_t>{});
  signals_in = caf::actor_cast<caf::actor>(relay);
  return signal_source_actor{relay};
}

}  // namespace remex::cli
