// How the libssh backend fails: host keys, authentication, dead servers.
#define CAF_SUITE ssh_failures
#include <csignal>

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

  // Without ssh_config: explicit key and known_hosts.
  config::ssh_options direct() {
    config::ssh_options o;
    o.identity_files = {sshd["FIXTURE_KEY"]};
    o.known_hosts = sshd["FIXTURE_KNOWN_HOSTS"];
    return o;
  }
};

bool contains(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(ssh_failure_tests, fixture)

CAF_TEST(explicit target with key and known_hosts works) {
  auto p = make_ssh_provider(sshd.target(), direct());
  auto col = test::run(*p, "echo ok");
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "ok\n");
  CAF_CHECK_EQUAL(col->status.exit_code(), 0);
}

CAF_TEST(changed host key is refused and named) {
  auto kh = sshd.dir + "/known_hosts";
  test::run_shell(
      "ssh-keygen -q -t ed25519 -N '' -f " + sshd.dir +
      "/other >/dev/null && echo \"[127.0.0.1]:" + sshd["FIXTURE_PORT"] +
      " $(cut -d' ' -f1,2 " + sshd.dir + "/other.pub)\" > " + kh);
  auto p = make_ssh_provider(sshd.target(), direct());
  auto col = test::run(*p, "echo should-not-run");
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK(col->status.kind == kind::failed);
  CAF_CHECK(col->status.failure == failure_kind::host_key);
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
  CAF_MESSAGE(col->status.message);
  // The reason only (the CLI says which host): the known_hosts line.
  CAF_CHECK(contains(col->status.message, kh + ":1"));
  CAF_CHECK_EQUAL(col->stream(1), "");
}

CAF_TEST(unknown host is refused unless accepted then recorded) {
  auto kh = sshd.dir + "/empty_known_hosts";
  test::run_shell(": > " + kh);
  auto o = direct();
  o.known_hosts = kh;
  auto strict = make_ssh_provider(sshd.target(), o);
  auto refused = test::run(*strict, "echo no");
  CAF_REQUIRE(refused->wait_exit(20s));
  CAF_CHECK(refused->status.failure == failure_kind::host_key);
  CAF_CHECK_EQUAL(refused->status.exit_code(), 255);
  CAF_CHECK(contains(refused->status.message, "unknown host key"));
  CAF_CHECK_EQUAL(test::read_file(kh), "");

  o.accept_new_host_key = true;
  auto accepting = make_ssh_provider(sshd.target(), o);
  auto ok = test::run(*accepting, "echo yes");
  CAF_REQUIRE(ok->wait_exit(20s));
  CAF_CHECK_EQUAL(ok->stream(1), "yes\n");
  CAF_CHECK(
      contains(test::read_file(kh), "[127.0.0.1]:" + sshd["FIXTURE_PORT"]));
  // Recorded: a strict provider now trusts it.
  o.accept_new_host_key = false;
  auto again = make_ssh_provider(sshd.target(), o);
  auto ok2 = test::run(*again, "echo again");
  CAF_REQUIRE(ok2->wait_exit(20s));
  CAF_CHECK_EQUAL(ok2->stream(1), "again\n");
}

CAF_TEST(wrong key fails authentication clearly) {
  test::run_shell("ssh-keygen -q -t ed25519 -N '' -f " + sshd.dir +
                  "/stranger >/dev/null");
  auto o = direct();
  o.identity_files = {sshd.dir + "/stranger"};
  auto p = make_ssh_provider(sshd.target(), o);
  auto col = test::run(*p, "echo no");
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK(col->status.failure == failure_kind::auth);
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
  CAF_CHECK_EQUAL(col->status.message, "authentication failed (publickey)");
}

CAF_TEST(sshd stopped mid stream fails with 255 and no hang) {
  auto p = make_ssh_provider(sshd.target(), direct());
  auto col = test::run(*p, "echo ready; cat /dev/zero");
  CAF_REQUIRE(col->wait_output(1, "ready", 20s));
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  sshd.stop();
  CAF_REQUIRE(col->wait_exit(15s));
  CAF_MESSAGE("failed after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count()
              << " ms: " << col->status.message);
  CAF_CHECK(col->status.kind == kind::failed);
  CAF_CHECK(col->status.failure == failure_kind::lost);
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
  // A new request after that fails to connect, also with 255.
  auto next = test::run(*p, "echo no");
  CAF_REQUIRE(next->wait_exit(20s));
  CAF_CHECK(next->status.failure == failure_kind::connect);
  CAF_CHECK_EQUAL(next->status.exit_code(), 255);
}

CAF_TEST(unresponsive server fails within the connect timeout) {
  // A stopped sshd still completes TCP handshakes (the kernel does), but
  // never speaks: only the connect timeout can end the attempt.
  test::run_shell("kill -STOP " + sshd["FIXTURE_PID"]);
  auto o = direct();
  o.connect_timeout_s = 2;
  auto p = make_ssh_provider(sshd.target(), o);
  auto t0 = std::chrono::steady_clock::now();
  auto col = test::run(*p, "echo no");
  bool done = col->wait_exit(10s);
  test::run_shell("kill -CONT " + sshd["FIXTURE_PID"]);
  CAF_REQUIRE(done);
  auto took = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(took < 6s);
  CAF_CHECK(col->status.failure == failure_kind::connect);
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
}

CAF_TEST(frozen server mid stream is detected by keepalives) {
  auto o = direct();
  o.keepalive_interval_s = 1;
  o.keepalive_count_max = 2;
  auto p = make_ssh_provider(sshd.target(), o);
  auto col = test::run(*p, "echo ready; sleep 300");
  CAF_REQUIRE(col->wait_output(1, "ready", 20s));
  // Freeze every sshd process of the fixture: the TCP peer stays, silent.
  auto pids = "$(ps -o pid= --ppid " + sshd["FIXTURE_PID"] + ")";
  test::run_shell("for p in " + pids +
                  "; do kill -STOP $p $(ps -o pid= "
                  "--ppid $p); done");
  bool done = col->wait_exit(15s);
  test::run_shell("for p in " + pids +
                  "; do kill -CONT $p $(ps -o pid= "
                  "--ppid $p); done");
  CAF_REQUIRE(done);
  CAF_CHECK(col->status.failure == failure_kind::lost);
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
}

// A request queued behind a running one on a connection that then goes
// silent waits for the server's answer to its channel open; when the
// keepalives give the connection up, it goes back to the queue (it never
// ran) and a fresh connection is tried, which cannot succeed either. The
// running command must still end "lost" at the keepalives' verdict, not
// wait for that attempt's connect timeout and report its failure.
CAF_TEST(a channel opening on a silent connection does not delay the loss) {
  auto o = direct();
  o.keepalive_interval_s = 1;
  o.keepalive_count_max = 2;
  o.connect_timeout_s = 8;
  auto p = make_ssh_provider(sshd.target(), o);
  auto col = test::run(*p, "echo ready; sleep 300");
  CAF_REQUIRE(col->wait_output(1, "ready", 20s));
  // Freeze the listener and every session: TCP handshakes still complete
  // (the kernel does them), but nobody speaks.
  auto pids = "$(ps -o pid= --ppid " + sshd["FIXTURE_PID"] + ")";
  test::run_shell("kill -STOP " + sshd["FIXTURE_PID"] + "; for p in " + pids +
                  "; do kill -STOP $p $(ps -o pid= --ppid $p); done");
  auto t0 = std::chrono::steady_clock::now();
  auto second = test::run(*p, "echo second");
  bool done = col->wait_exit(15s);
  auto took = std::chrono::steady_clock::now() - t0;
  bool second_done = second->wait_exit(20s);
  test::run_shell("for p in " + pids +
                  "; do kill -CONT $p $(ps -o pid= --ppid $p); done; kill "
                  "-CONT " +
                  sshd["FIXTURE_PID"]);
  CAF_REQUIRE(done);
  CAF_MESSAGE(
      "the running command ended after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
      << " ms: " << col->status.message);
  CAF_CHECK(took < 6s);
  CAF_CHECK(col->status.failure == failure_kind::lost);
  CAF_CHECK(contains(col->status.message, "connection lost"));
  CAF_CHECK_EQUAL(col->status.exit_code(), 255);
  CAF_REQUIRE(second_done);
  CAF_MESSAGE("the queued one: " << second->status.message);
  CAF_CHECK_EQUAL(second->status.exit_code(), 255);
}

// The connection's privileged sshd (its monitor) SIGKILLed while the
// connection idles: the unprivileged child still holds the socket, so the
// pool cannot tell, and the child dies of the next exec request it gets
// (logging it needs the monitor). That request's exec was never accepted,
// so nothing of it ran: it is opened again on a fresh connection and
// succeeds, where it used to fail "exec refused: Socket error:
// disconnected".
CAF_TEST(a request whose connection dies before its exec is accepted runs on a
             fresh one) {
  auto p = make_ssh_provider(sshd.target(), direct());
  auto warm = test::run(*p, "echo warm");
  CAF_REQUIRE(warm->wait_exit(20s));
  CAF_REQUIRE_EQUAL(warm->status.exit_code(), 0);
  CAF_REQUIRE_EQUAL(p->status().connections, 1u);
  // The listener's children are the connections' monitors. Dead means
  // exited (a zombie or gone): until then its socket may still take the
  // child's log line, and the child serves the request itself.
  test::run_shell("m=$(ps -o pid= --ppid " + sshd["FIXTURE_PID"] +
                  "); kill -KILL $m; for i in $(seq 100); do "
                  "case $(ps -o stat= -p $m) in ''|Z*) break;; esac; "
                  "sleep 0.05; done");
  auto next = test::run(*p, "echo next");
  CAF_REQUIRE(next->wait_exit(20s));
  CAF_MESSAGE("the next request: " << next->status.message);
  CAF_CHECK_EQUAL(next->status.exit_code(), 0);
  CAF_CHECK_EQUAL(next->stream(1), "next\n");
  auto st = p->status();
  CAF_CHECK_EQUAL(st.opened, 2u);
  CAF_CHECK_EQUAL(st.lost, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
