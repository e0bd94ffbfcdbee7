// The agent channel driving the real remex-agent through the local backend.
#define CAF_SUITE agent_channel
#include "transport/agent_channel.hpp"

#include <signal.h>

#include "caf/test/unit_test.hpp"
#include "tests/transport/recorder.hpp"
#include "transport/local/local_provider.hpp"
#include "transport/shell_command.hpp"

using namespace remex;
using namespace std::chrono_literals;
using kind = transport::exit_status::kind_t;

#ifdef REMEX_AGENT_PATH

namespace {
struct fixture {
  std::shared_ptr<transport::session_provider> p =
      transport::make_local_provider();

  std::shared_ptr<test::recorder> start(transport::command cmd,
                                        protocol::agent_config cfg = {}) {
    auto r = std::make_shared<test::recorder>();
    r->attach(transport::start_agent_exec(
        *p, transport::shell_quote(REMEX_AGENT_PATH), cfg, cmd, r));
    return r;
  }
  static transport::command sh(const std::string& script,
                               std::vector<std::uint32_t> fds = {}) {
    transport::command c;
    c.path = "/bin/sh";
    c.argv = {"sh", "-c", script};
    c.fds = std::move(fds);
    return c;
  }
};
}  // namespace

CAF_TEST_FIXTURE_SCOPE(agent_channel_tests, fixture)

CAF_TEST(exit codes and output) {
  auto r = start(sh("echo out; echo err >&2; exit 5"));
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(1), "out\n");
  CAF_CHECK_EQUAL(r->stream(2), "err\n");
  CAF_CHECK(r->status.kind == kind::exited);
  CAF_CHECK_EQUAL(r->status.code, 5);
}

CAF_TEST(stdin round trip) {
  auto r = start(sh("cat"));
  std::string data;
  for (int i = 0; i < 300000; ++i) data += static_cast<char>(i * 7 + i / 13);
  r->current()->write(0, data);
  r->current()->close_stream(0);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK(r->stream(1) == data);
  CAF_CHECK_EQUAL(r->drained, data.size());
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);
}

CAF_TEST(missing command is 127 with a message) {
  transport::command c;
  c.path = "/nonexistent/remex-nope";
  c.argv = {"remex-nope"};
  auto r = start(c);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->status.exit_code(), 127);
  CAF_CHECK(r->status.kind == kind::failed);
  CAF_CHECK(r->status.failure == transport::failure_kind::spawn);
  CAF_CHECK(r->status.message.find("remex-nope") != std::string::npos);
}

CAF_TEST(extra fds both ways) {
  auto r = start(sh("cat <&3 >&4; printf three >&3; cat <&4 >&3", {3, 4}));
  r->current()->close_stream(0);
  r->current()->write(3, "to3");
  r->current()->close_stream(3);
  r->current()->write(4, "to4");
  r->current()->close_stream(4);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(4), "to3");
  CAF_CHECK_EQUAL(r->stream(3), "threeto4");
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);
}

CAF_TEST(signals reach the command) {
  auto r =
      start(sh("trap 'echo got; exit 9' USR1; echo ready; "
               "while :; do sleep 0.1; done"));
  CAF_REQUIRE(r->wait_output(1, "ready\n"));
  r->current()->signal(SIGUSR1);
  CAF_REQUIRE(r->wait_exit(10s));
  CAF_CHECK_EQUAL(r->stream(1), "ready\ngot\n");
  CAF_CHECK_EQUAL(r->status.exit_code(), 9);
  auto k = start(sh("echo ready; exec sleep 60"));
  CAF_REQUIRE(k->wait_output(1, "ready\n"));
  k->current()->signal(SIGTERM);
  CAF_REQUIRE(k->wait_exit(10s));
  CAF_CHECK_EQUAL(k->status.exit_code(), 143);
}

CAF_TEST(terminate ends the command) {
  auto r = start(sh("echo ready; sleep 60"));
  CAF_REQUIRE(r->wait_output(1, "ready\n"));
  r->current()->terminate();
  CAF_REQUIRE(r->wait_exit(10s));
  CAF_CHECK(r->status.exit_code() != 0);
}

CAF_TEST(agent killed mid run fails with 255) {
  // The agent is the command's parent: $PPID names it.
  auto r = start(sh("echo $PPID; sleep 20"));
  CAF_REQUIRE(r->wait_output(1, "\n"));
  int agent = std::stoi(r->stream(1));
  CAF_REQUIRE(agent > 1);
  ::kill(agent, SIGKILL);
  CAF_REQUIRE(r->wait_exit(10s));
  CAF_CHECK(r->status.kind == kind::failed);
  CAF_CHECK_EQUAL(r->status.exit_code(), 255);
  CAF_CHECK(r->status.message.find("agent") != std::string::npos);
  CAF_MESSAGE("message: " << r->status.message);
}

// The supervisor's ladder: terminate (the agent ends the group), then kill
// when that is not confirmed.
CAF_TEST(kill ends a hung agent that terminate could not) {
  auto r = start(sh("echo $PPID; sleep 20"));
  CAF_REQUIRE(r->wait_output(1, "\n"));
  int agent = std::stoi(r->stream(1));
  CAF_REQUIRE(agent > 1);
  ::kill(agent, SIGSTOP);  // it cannot react to its stdin closing
  r->current()->terminate();
  CAF_CHECK(!r->wait_exit(1s));
  r->current()->kill();
  CAF_REQUIRE(r->wait_exit(10s));
  CAF_CHECK(r->status.kind == kind::failed);
  CAF_CHECK_EQUAL(r->status.exit_code(), 255);
  ::kill(agent, SIGKILL);
}

CAF_TEST_FIXTURE_SCOPE_END()

#else

CAF_TEST(agent channel needs the remex - agent target) {
  CAF_FAIL("remex-agent is not part of this build");
}

#endif
