// The libssh backend against a real OpenSSH sshd (tests/fixtures).
#define CAF_SUITE ssh_exec
#include <csignal>
#include <random>

#include "caf/test/unit_test.hpp"
#include "tests/ssh/collector.hpp"
#include "tests/ssh/sshd_fixture.hpp"
#include "transport/ssh/ssh_provider.hpp"

using namespace remex;
using namespace remex::transport;
using namespace std::chrono_literals;
using kind = exit_status::kind_t;

namespace {

struct fixture {
  test::sshd_fixture sshd;

  // Through the generated ssh_config's Host alias, as a user would.
  std::shared_ptr<ssh_session_provider> provider(config::ssh_options o = {}) {
    o.ssh_config = sshd["FIXTURE_SSH_CONFIG"];
    return make_ssh_provider("fixture", o);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(ssh_exec_tests, fixture)

CAF_TEST(output and exit codes) {
  auto p = provider();
  auto col = test::run(*p, "echo hello; echo oops >&2; exit 7");
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "hello\n");
  CAF_CHECK_EQUAL(col->stream(2), "oops\n");
  CAF_CHECK(col->status.kind == kind::exited);
  CAF_CHECK_EQUAL(col->status.exit_code(), 7);
  CAF_CHECK(col->eof[1] && col->eof[2]);
  auto ok = test::run(*p, "id -un");
  CAF_REQUIRE(ok->wait_exit(20s));
  CAF_CHECK_EQUAL(ok->stream(1), sshd["FIXTURE_USER"] + "\n");
  CAF_CHECK_EQUAL(ok->status.exit_code(), 0);
}

CAF_TEST(a listener that never consumes still sees small output and the end) {
  // Output is gathered while the consumer is behind; the remote EOF must
  // flush what was held even when no credit ever comes back.
  auto p = provider();
  auto col = std::make_shared<test::collector>();
  col->auto_consume = false;
  auto ch = p->open_exec("echo one; sleep 0.3; echo two; sleep 0.3; echo three",
                         {}, col);
  col->attach(ch);
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "one\ntwo\nthree\n");
  CAF_CHECK_EQUAL(col->status.exit_code(), 0);
}

CAF_TEST(stdin round trip of 4 MiB) {
  auto p = provider();
  std::string data(4 << 20, '\0');
  std::mt19937 rng{42};
  for (auto& c : data) c = static_cast<char>(rng());
  auto col = std::make_shared<test::collector>();
  auto ch = p->open_exec("cat", {}, col);
  col->attach(ch);
  for (std::size_t off = 0; off < data.size(); off += 100000)
    ch->write(0, data.substr(off, 100000));
  ch->close_stream(0);
  CAF_REQUIRE(col->wait_exit(60s));
  CAF_CHECK_EQUAL(col->status.exit_code(), 0);
  CAF_CHECK_EQUAL(col->size(1), data.size());
  CAF_CHECK(col->stream(1) == data);
  CAF_CHECK_EQUAL(col->drained, data.size());
}

CAF_TEST(exit signals map to 128 plus N) {
  auto p = provider();
  auto term = test::run(*p, "kill -TERM $$");
  auto kill = test::run(*p, "kill -KILL $$");
  CAF_REQUIRE(term->wait_exit(20s));
  CAF_REQUIRE(kill->wait_exit(20s));
  CAF_CHECK(term->status.kind == kind::signaled);
  CAF_CHECK_EQUAL(term->status.signal, SIGTERM);
  CAF_CHECK_EQUAL(term->status.exit_code(), 128 + SIGTERM);
  CAF_CHECK_EQUAL(kill->status.exit_code(), 128 + SIGKILL);
}

CAF_TEST(env requests reach the command) {
  auto p = provider();
  auto col = test::run(*p, "printf '%s|%s' \"$REMEX_FOO\" \"$LC_REMEX\"",
                       {"REMEX_FOO=bar baz", "LC_REMEX=x=y"});
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "bar baz|x=y");
}

CAF_TEST(fifty channels over MaxSessions 10) {
  auto p = provider();
  std::vector<std::shared_ptr<test::collector>> cols;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i)
    cols.push_back(test::run(*p, "sleep 1; echo " + std::to_string(i)));
  int good = 0;
  for (int i = 0; i < 50; ++i) {
    CAF_REQUIRE(cols[i]->wait_exit(60s));
    if (cols[i]->status.exit_code() == 0 &&
        cols[i]->stream(1) == std::to_string(i) + "\n")
      ++good;
    else
      CAF_MESSAGE("channel " << i << ": " << cols[i]->status.message);
  }
  CAF_CHECK_EQUAL(good, 50);
  auto took = std::chrono::steady_clock::now() - start;
  // All at once over several connections, not 50 one-second runs in a row.
  CAF_CHECK(took < 20s);
  auto info = p->link_info();
  CAF_MESSAGE("connections used: " << info.connections);
  CAF_CHECK_GREATER_OR_EQUAL(info.connections, 5);
}

CAF_TEST(signal requests reach a trapping script) {
  auto p = provider();
  auto col = std::make_shared<test::collector>();
  auto ch = p->open_exec(
      "trap 'echo got-TERM; exit 42' TERM; echo ready; "
      "while :; do sleep 0.1; done",
      {}, col);
  col->attach(ch);
  CAF_REQUIRE(col->wait_output(1, "ready", 20s));
  ch->signal(SIGTERM);
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "ready\ngot-TERM\n");
  CAF_CHECK_EQUAL(col->status.exit_code(), 42);
}

// OpenSSH 9.2 delivers signal requests to the session's process group
// (killpg), so a background child of the command gets them too.
CAF_TEST(signal requests reach the whole process group) {
  auto p = provider();
  for (int signo : {SIGHUP, SIGTERM, SIGUSR1, SIGUSR2}) {
    auto col = std::make_shared<test::collector>();
    // The parent's trap is set before the child can say it is ready: the
    // other way round, a fast signal could find the parent without it.
    auto ch = p->open_exec(
        "trap 'echo parent-got' " + std::to_string(signo) +
            "; sh -c 'trap \"echo child-got; exit 0\" " +
            std::to_string(signo) +
            "; echo child-ready; while :; do sleep 0.1; done' & wait; wait",
        {}, col);
    col->attach(ch);
    CAF_REQUIRE(col->wait_output(1, "child-ready", 20s));
    ch->signal(signo);
    CAF_REQUIRE(col->wait_exit(20s));
    CAF_MESSAGE("signal " << signo << ": " << col->stream(1));
    CAF_CHECK(col->stream(1).find("child-got") != std::string::npos);
    CAF_CHECK(col->stream(1).find("parent-got") != std::string::npos);
  }
  // sh starts background jobs with INT and QUIT ignored, so those two are
  // checked on the command itself.
  for (int signo : {SIGINT, SIGQUIT}) {
    auto col = std::make_shared<test::collector>();
    auto ch = p->open_exec("trap 'echo got; exit 5' " + std::to_string(signo) +
                               "; echo ready; while :; do sleep 0.1; done",
                           {}, col);
    col->attach(ch);
    CAF_REQUIRE(col->wait_output(1, "ready", 20s));
    ch->signal(signo);
    CAF_REQUIRE(col->wait_exit(20s));
    CAF_CHECK_EQUAL(col->stream(1), "ready\ngot\n");
    CAF_CHECK_EQUAL(col->status.exit_code(), 5);
  }
}

CAF_TEST(terminate kills the remote command) {
  auto p = provider();
  auto col = std::make_shared<test::collector>();
  auto ch = p->open_exec("echo ready; exec sleep 3141", {}, col);
  col->attach(ch);
  CAF_REQUIRE(col->wait_output(1, "ready", 20s));
  ch->terminate();
  CAF_REQUIRE(col->wait_exit(10s));
  CAF_CHECK_EQUAL(col->status.exit_code(), 128 + SIGKILL);
  // Nothing of the command is left on the host.
  auto left = test::run(*p, "pgrep -f \"^sleep 3141$\" || true");
  CAF_REQUIRE(left->wait_exit(20s));
  CAF_CHECK_EQUAL(left->stream(1), "");
}

CAF_TEST(flow control holds back a fast writer) {
  auto p = provider();
  auto col = std::make_shared<test::collector>();
  col->auto_consume = false;
  auto ch = p->open_exec("head -c 50000000 /dev/zero", {}, col);
  col->attach(ch);
  std::this_thread::sleep_for(2s);
  auto held = col->size(1);
  // One window in hand; the rest waits in the SSH window and the pipe.
  CAF_CHECK_LESS_OR_EQUAL(held, default_window);
  CAF_CHECK_GREATER(held, 0u);
  CAF_CHECK_EQUAL(col->exits, 0);
  std::size_t given = 0;
  for (int i = 0; i < 600 && col->exits == 0; ++i) {
    auto now = col->size(1);
    if (now > given) ch->consumed(1, now - given), given = now;
    std::this_thread::sleep_for(10ms);
    if (col->wait_exit(0ms)) break;
  }
  CAF_REQUIRE(col->wait_exit(30s));
  CAF_CHECK_EQUAL(col->size(1), 50000000u);
  CAF_CHECK_EQUAL(col->status.exit_code(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
