// The local backend against the backend-neutral behaviour.
#define CAF_SUITE local_provider
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caf/test/unit_test.hpp"
#include "tests/common/processes.hpp"
#include "tests/transport/behaviour.hpp"
#include "transport/local/local_provider.hpp"

using namespace remex;
namespace b = remex::test::behaviour;

namespace {

// Starts the spawner helper on line; returns its pid once it said "started"
// (the command runs), or -1.
pid_t start_spawner(const std::string& line) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::setenv("REMEX_SPAWNER_COMMAND", line.c_str(), 1);
    ::execl(REMEX_LOCAL_SPAWNER_PATH, REMEX_LOCAL_SPAWNER_PATH,
            static_cast<char*>(nullptr));
    ::_exit(99);
  }
  ::close(out[1]);
  std::string got;
  pollfd p{out[0], POLLIN, 0};
  char buf[64];
  while (pid > 0 && got.find('\n') == std::string::npos &&
         ::poll(&p, 1, 10000) == 1) {
    auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  if (pid > 0 && got != "started\n") {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return pid;
}

struct fixture {
  std::shared_ptr<transport::session_provider> p =
      transport::make_local_provider();
};
}  // namespace

CAF_TEST_FIXTURE_SCOPE(local_provider_tests, fixture)

CAF_TEST(exec output and exit codes) {
  b::exec_output_and_codes(*p);
}
CAF_TEST(stdin round trip) {
  b::stdin_round_trip(*p);
}
CAF_TEST(exit signal mapping) {
  b::exit_signal_mapping(*p);
}
CAF_TEST(env entries) {
  b::env_entries(*p);
}
CAF_TEST(signal to trapping script) {
  b::signal_to_trapping_script(*p);
}
CAF_TEST(many concurrent channels) {
  b::many_concurrent_channels(*p);
}
CAF_TEST(terminate kills the process group) {
  b::terminate_kills_group(*p);
}
CAF_TEST(flow control) {
  b::flow_control(*p);
}
CAF_TEST(quoting round trip) {
  b::quoting_round_trip(*p);
}

CAF_TEST(a background process holding the pipes holds the exit like sshd) {
  auto r = b::run(*p, "(sleep 1; echo late) & echo bye; exit 4");
  CAF_REQUIRE(r->wait_exit(std::chrono::seconds(10)));
  CAF_CHECK_EQUAL(r->stream(1), "bye\nlate\n");
  CAF_CHECK_EQUAL(r->status.exit_code(), 4);
}

CAF_TEST(the command dies with the process that spawned it) {
  // remex itself SIGKILLed while its local command runs: nothing can clean
  // up in remex, yet no process of the command's group may run on.
  auto marker = test::unique_marker("local-sigkill");
  auto spawner = start_spawner("echo started; sleep 60; true # " + marker);
  CAF_REQUIRE(spawner > 0);
  // The shell leads the group (a forked shell about to exec `sleep` may
  // show the line for a moment).
  pid_t pgid = -1;
  auto running = test::wait_until(
      [&] {
        auto shells = test::processes_with_arg(marker);
        if (shells.size() != 1) return false;
        pgid = shells[0];
        return test::live_group_members(pgid).size() == 2;  // sh and sleep
      },
      5000);
  ::kill(spawner, SIGKILL);
  ::waitpid(spawner, nullptr, 0);
  CAF_REQUIRE(running);
  CAF_CHECK(test::wait_until(
      [&] {
        return test::live_group_members(pgid).empty() &&
               test::processes_with_arg(marker).empty();
      },
      1500));
}

CAF_TEST_FIXTURE_SCOPE_END()
