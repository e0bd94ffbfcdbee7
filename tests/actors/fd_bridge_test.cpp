// fd_bridge on real fds and real threads (its blocking I/O cannot run under
// the deterministic test coordinator): credit both ways, half-close, a
// broken pipe, and an actor system that ends after an execution instead of
// waiting for a bridge forever.
#define CAF_SUITE fd_bridge

#include "actors/fd_bridge.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <future>
#include <thread>

#include "actors/broker.hpp"
#include "actors/types.hpp"
#include "caf/test/unit_test.hpp"

using namespace remex;
using namespace remex::actors;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    remex::actors::add_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

// Reads what is in fd within `wait`; stops at EOF. The flag says whether EOF
// was seen.
std::string read_some(int fd, std::chrono::milliseconds wait,
                      bool* eof = nullptr) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return out;
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      if (eof) *eof = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    wait = 50ms;  // then only what follows at once
  }
}

bool write_str(int fd, const std::string& s) {
  return ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
}

// How many of the actors self monitors went down, waiting up to `wait` for
// each.
size_t downs(caf::scoped_actor& self, size_t expected,
             std::chrono::milliseconds wait) {
  size_t n = 0;
  bool more = true;
  while (more && n < expected)
    self->receive([&](caf::down_msg&) { ++n; },
                  caf::after(wait) >> [&] { more = false; });
  return n;
}

struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  fixture() { std::signal(SIGPIPE, SIG_IGN); }

  // The scoped actor plays the input pump.
  input_actor me() { return caf::actor_cast<input_actor>(self); }
};

// Runs body on a thread of its own and fails (then ends the test program)
// if it does not return in time: a bridge that keeps the actor system from
// shutting down would otherwise hang the whole run.
void within(std::chrono::seconds limit, std::function<void()> body) {
  std::promise<void> done;
  auto f = done.get_future();
  std::thread([&done, body] {
    body();
    done.set_value();
  }).detach();
  if (f.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: still running after %lld s\n",
                 static_cast<long long>(limit.count()));
    std::_Exit(1);
  }
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(fd_bridge_tests, fixture)

CAF_TEST(output : each chunk is answered with the bytes written) {
  int p[2];
  CAF_REQUIRE_EQUAL(::pipe(p), 0);
  fd_bridge_options opts;
  opts.close_at_eof = true;
  auto b = spawn_fd_bridge(sys, p[1], fd_direction::output, opts);
  CAF_REQUIRE(b.sink != nullptr);
  CAF_CHECK(b.source == nullptr);
  CAF_CHECK(!b.report->output_arrived);
  self->monitor(b.sink);
  for (auto chunk : {"hello ", "world"})
    self->request(b.sink, caf::infinite, chunk_atom::value, std::uint32_t{5},
                  std::string(chunk))
        .receive(
            [&](std::uint64_t n) {
              CAF_CHECK_EQUAL(n, std::string(chunk).size());
            },
            [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(b.report->output_arrived);
  CAF_CHECK_EQUAL(read_some(p[0], 1000ms), "hello world");
  self->request(b.sink, caf::infinite, eof_atom::value, std::uint32_t{5})
      .receive([](bool ok) { CAF_CHECK(ok); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  // A pipe is not a socket: closed at EOF, so its reader sees the end.
  bool eof = false;
  read_some(p[0], 1000ms, &eof);
  CAF_CHECK(eof);
  CAF_CHECK_EQUAL(downs(self, 1, 2000ms), 1u);  // the sink is done
  CAF_CHECK(!b.report->pipe_broken);
  ::close(p[0]);
}

CAF_TEST(input : at most a window in flight until credit comes back) {
  int p[2];
  CAF_REQUIRE_EQUAL(::pipe(p), 0);
  fd_bridge_options opts;
  opts.window = 100 * 1000;
  auto b = spawn_fd_bridge(sys, p[0], fd_direction::input, opts);
  CAF_REQUIRE(b.source != nullptr);
  CAF_CHECK(b.sink == nullptr);
  std::string sent;
  for (int i = 0; sent.size() < 1000 * 1000; ++i)
    sent += std::to_string(i) + '\n';
  std::thread writer([fd = p[1], &sent] {
    write_str(fd, sent);
    ::close(fd);
  });
  self->monitor(b.source);
  self->send(b.source, attach_atom::value, me());
  std::string got;
  bool eof = false;
  // No credit yet: the bridge stops within one read past the window.
  for (bool more = true; more;)
    self->receive([&](chunk_atom, std::string& bytes) { got += bytes; },
                  caf::after(500ms) >> [&] { more = false; });
  CAF_CHECK_GREATER_OR_EQUAL(got.size(), opts.window);
  CAF_CHECK_LESS(got.size(), opts.window + 64 * 1024);
  // Credit for each chunk as it arrives: everything follows, then EOF.
  self->send(b.source, credit_atom::value, std::uint64_t{got.size()});
  while (!eof)
    self->receive(
        [&](chunk_atom, std::string& bytes) {
          got += bytes;
          self->send(b.source, credit_atom::value, std::uint64_t{bytes.size()});
        },
        [&](eof_atom) { eof = true; },
        caf::after(5s) >> [&] { CAF_FAIL("no EOF"); });
  writer.join();
  CAF_CHECK(got == sent);
  CAF_CHECK_EQUAL(downs(self, 1, 2000ms), 1u);  // the source is done
  ::close(p[0]);
}

CAF_TEST(socket : both ways on one fd and each half closed on its own) {
  int s[2];
  CAF_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
  CAF_REQUIRE(direction_of(s[0]) == fd_direction::both);
  fd_bridge_options opts;
  opts.close_at_eof = true;
  auto b = spawn_fd_bridge(sys, s[0], fd_direction::both, opts);
  CAF_REQUIRE(b.sink != nullptr);
  CAF_REQUIRE(b.source != nullptr);
  self->monitor(b.sink);
  self->monitor(b.source);
  self->send(b.source, attach_atom::value, me());
  auto next_input = [&] {
    std::string got;
    self->receive([&](chunk_atom, std::string& bytes) { got = bytes; },
                  [&](eof_atom) { got = "<eof>"; },
                  caf::after(2s) >> [&] { got = "<nothing>"; });
    return got;
  };
  CAF_REQUIRE(write_str(s[1], "ping"));
  CAF_CHECK_EQUAL(next_input(), "ping");
  self->request(b.sink, caf::infinite, chunk_atom::value, std::uint32_t{3},
                std::string("pong"))
      .receive([](std::uint64_t n) { CAF_CHECK_EQUAL(n, 4u); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(read_some(s[1], 1000ms), "pong");
  // The remote side's EOF: the peer reads the end, and can still write.
  self->request(b.sink, caf::infinite, eof_atom::value, std::uint32_t{3})
      .receive([](bool ok) { CAF_CHECK(ok); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  bool eof = false;
  read_some(s[1], 1000ms, &eof);
  CAF_CHECK(eof);
  CAF_CHECK_EQUAL(downs(self, 1, 2000ms), 1u);  // the sink is done
  CAF_REQUIRE(write_str(s[1], "more"));
  CAF_CHECK_EQUAL(next_input(), "more");
  // The peer's EOF reaches the input, and the source is done too.
  ::shutdown(s[1], SHUT_WR);
  CAF_CHECK_EQUAL(next_input(), "<eof>");
  CAF_CHECK_EQUAL(downs(self, 1, 2000ms), 1u);
  ::close(s[0]);
  ::close(s[1]);
}

CAF_TEST(a broken pipe fails the chunk and is reported) {
  int p[2];
  CAF_REQUIRE_EQUAL(::pipe(p), 0);
  ::close(p[0]);
  auto b = spawn_fd_bridge(sys, p[1], fd_direction::output);
  self->monitor(b.sink);
  bool failed = false;
  self->request(b.sink, caf::infinite, chunk_atom::value, std::uint32_t{1},
                std::string("nobody reads this"))
      .receive([](std::uint64_t) {}, [&](caf::error&) { failed = true; });
  CAF_CHECK(failed);
  CAF_CHECK(b.report->pipe_broken);
  CAF_CHECK_EQUAL(downs(self, 1, 2000ms), 1u);  // nothing more to write
  ::close(p[1]);
}

CAF_TEST(stop_bridges ends bridges that never heard from an execution) {
  int p[2];
  CAF_REQUIRE_EQUAL(::pipe(p), 0);
  auto ends = bridge_std_fds(sys, p[0], p[1], p[1]);
  CAF_CHECK_EQUAL(ends.sinks.size(), 2u);
  CAF_CHECK_EQUAL(ends.sources.size(), 1u);
  for (auto& [s, sink] : ends.sinks) self->monitor(sink);
  for (auto& [s, source] : ends.sources) self->monitor(source);
  stop_bridges(ends);
  CAF_CHECK_EQUAL(downs(self, 3, 2000ms), 3u);
  ::close(p[0]);
  ::close(p[1]);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

struct pipes {
  int in[2], out[2], err[2];
  pipes() {
    CAF_REQUIRE_EQUAL(::pipe(in), 0);
    CAF_REQUIRE_EQUAL(::pipe(out), 0);
    CAF_REQUIRE_EQUAL(::pipe(err), 0);
  }
  ~pipes() {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
  }
};

// One execution through an embedded broker with the usual bridges on
// pipes, then the actor system goes out of scope as at the end of a main().
outcome run_and_shut_down(exec_request req, pipes& fds) {
  outcome result;
  {
    config cfg;
    caf::actor_system sys{cfg};
    auto broker = spawn_broker(sys, remex::config::broker_settings{});
    auto report = std::make_shared<bridge_report>();
    auto ends =
        bridge_std_fds(sys, fds.in[0], fds.out[1], fds.err[1], {}, report);
    caf::scoped_actor self{sys};
    self->request(broker, caf::infinite, exec_atom::value, req, ends)
        .receive([&](outcome& o) { result = std::move(o); },
                 [&](caf::error& err) {
                   result = outcome::make_failed(transport::failure_kind::spawn,
                                                 255, sys.render(err));
                 });
    // No stop_bridges: on this node the bridges end by themselves. The
    // broker keeps its warm sessions until told to stop.
    self->send_exit(broker, caf::exit_reason::user_shutdown);
  }
  return result;
}

}  // namespace

CAF_TEST(after an execution the actor system shuts down) {
  // stdin stays open (a terminal nobody types into): the source ends because
  // its input went away, not at EOF.
  pipes fds;
  CAF_REQUIRE(write_str(fds.in[1], "input"));
  exec_request req;
  req.backend = backend_kind::ssh;  // the command itself, no agent
  req.path = "sh";
  req.argv = {"sh", "-c", "head -c 5; echo; echo err >&2; exit 3"};
  outcome o;
  within(30s, [&] { o = run_and_shut_down(req, fds); });
  CAF_CHECK_EQUAL(o.kind, outcome::exited);
  CAF_CHECK_EQUAL(o.exit_code(), 3);
  CAF_CHECK_EQUAL(read_some(fds.out[0], 1000ms), "input\n");
  CAF_CHECK_EQUAL(read_some(fds.err[0], 1000ms), "err\n");
}

CAF_TEST(after an execution that never ran the actor system shuts down) {
  // Nothing listens on port 1: the command never runs (the ssh transport
  // hands out its channel before it connects, so the source is attached and
  // must notice its input go).
  pipes fds;
  exec_request req;
  req.target = "127.0.0.1:1";
  req.backend = backend_kind::ssh;
  req.path = "true";
  req.argv = {"true"};
  req.connect.connect_timeout_ms = 5000;
  outcome o;
  within(30s, [&] { o = run_and_shut_down(req, fds); });
  CAF_CHECK_EQUAL(o.kind, outcome::failed);
  CAF_CHECK_EQUAL(o.exit_code(), 255);
}

CAF_TEST(bridges that never heard from an execution end with their handles) {
  pipes fds;
  within(30s, [&] {
    config cfg;
    caf::actor_system sys{cfg};
    auto ends = bridge_std_fds(sys, fds.in[0], fds.out[1], fds.err[1]);
    CAF_CHECK_EQUAL(ends.sinks.size() + ends.sources.size(), 3u);
  });
}
