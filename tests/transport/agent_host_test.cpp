// The shared agent connection over the local backend, driving the real
// remex-agent: many executions on one agent, per-execution credit, the cap,
// the agent's death, the link closing, and the fall back to the seed's way.
#define CAF_SUITE agent_host
#include "transport/agent_host.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "caf/test/unit_test.hpp"
#include "tests/common/processes.hpp"
#include "tests/transport/recorder.hpp"
#include "transport/local/local_provider.hpp"
#include "transport/shell_command.hpp"

using namespace remex;
using namespace std::chrono_literals;
using kind = transport::exit_status::kind_t;
using remex::test::live_group_members;
using remex::test::processes_with_arg;
using remex::test::unique_marker;
using remex::test::wait_until;

#ifdef REMEX_AGENT_PATH

namespace {

struct fixture {
  std::shared_ptr<transport::session_provider> p =
      transport::make_local_provider();
  // In the agent's argv (which it ignores), so a test can find it.
  std::string marker = unique_marker("agent-host");
  std::shared_ptr<transport::agent_host> host;

  void make_host(transport::agent_link_options opt = {},
                 std::string prefix = "") {
    host = transport::agent_host::make(
        *p,
        prefix + "exec " + transport::shell_quote(REMEX_AGENT_PATH) + " " +
            marker,
        opt);
  }

  std::shared_ptr<test::recorder> start(transport::command cmd,
                                        bool consume = true) {
    if (!host) make_host();
    auto r = std::make_shared<test::recorder>(consume);
    r->attach(host->open({}, cmd, r));
    return r;
  }
  static transport::command sh(const std::string& script) {
    transport::command c;
    c.path = "/bin/sh";
    c.argv = {"sh", "-c", script};
    return c;
  }
  // The agent, not the group guards it forked (they share its argv).
  pid_t agent_pid() {
    auto ps = processes_with_arg(marker);
    for (auto p : ps) {
      std::ifstream in("/proc/" + std::to_string(p) + "/stat");
      std::string stat;
      std::getline(in, stat);
      auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(stat.substr(close + 2));
      char state;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (std::find(ps.begin(), ps.end(), ppid) == ps.end()) return p;
    }
    return -1;
  }
  ~fixture() {
    host.reset();  // closes the agent's stdin
    wait_until([&] { return processes_with_arg(marker).empty(); }, 5000);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(agent_host_tests, fixture)

CAF_TEST(twenty executions share one agent and keep their bytes) {
  std::vector<std::shared_ptr<test::recorder>> rs;
  std::vector<std::string> inputs;
  for (int i = 0; i < 20; ++i) {
    std::string in;
    for (int j = 0; j < 50000 + i; ++j)
      in += static_cast<char>(j * (i + 3) + j / 7);
    inputs.push_back(in);
    rs.push_back(start(sh("cat; echo e" + std::to_string(i) + " >&2; exit " +
                          std::to_string(i))));
  }
  for (int i = 0; i < 20; ++i) {
    rs[i]->channel->write(0, inputs[i]);
    rs[i]->channel->close_stream(0);
  }
  int exact = 0;
  for (int i = 0; i < 20; ++i) {
    CAF_REQUIRE(rs[i]->wait_exit());
    if (rs[i]->stream(1) == inputs[i] &&
        rs[i]->stream(2) == "e" + std::to_string(i) + "\n" &&
        rs[i]->status.kind == kind::exited && rs[i]->status.code == i &&
        rs[i]->drained == inputs[i].size())
      ++exact;
  }
  CAF_CHECK_EQUAL(exact, 20);
  CAF_CHECK_EQUAL(host->agents_started(), 1u);
  CAF_CHECK(host->multi());
  CAF_CHECK(!host->seed_fallback());
}

CAF_TEST(a command that cannot start is a spawn failure) {
  transport::command c;
  c.path = "/nonexistent/remex-nope";
  c.argv = {"remex-nope"};
  auto r = start(c);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK(r->status.kind == kind::failed);
  CAF_CHECK(r->status.failure == transport::failure_kind::spawn);
  CAF_CHECK_EQUAL(r->status.exit_code(), 127);
}

CAF_TEST(signal and terminate reach one execution only) {
  auto a = start(sh("echo up; sleep 100"));
  auto b = start(sh("trap 'exit 9' TERM; echo up; sleep 100 & wait"));
  auto c = start(sh("cat"));
  CAF_REQUIRE(a->wait_output(1, "up"));
  a->channel->signal(SIGKILL);
  CAF_REQUIRE(a->wait_exit());
  CAF_CHECK_EQUAL(a->status.exit_code(), 137);
  CAF_REQUIRE(b->wait_output(1, "up"));  // the trap is set
  b->channel->terminate();
  CAF_REQUIRE(b->wait_exit());
  CAF_CHECK_EQUAL(b->status.exit_code(), 9);
  CAF_CHECK(c->exits == 0);
  c->channel->write(0, "still here");
  c->channel->close_stream(0);
  CAF_REQUIRE(c->wait_exit());
  CAF_CHECK_EQUAL(c->stream(1), "still here");
  CAF_CHECK_EQUAL(c->status.exit_code(), 0);
}

CAF_TEST(an execution whose output is not consumed does not stall another) {
  transport::agent_link_options opt;
  opt.window = 256 * 1024;
  make_host(opt);
  auto slow = start(sh("head -c 8000000 /dev/zero"), false);
  auto fast = start(sh("head -c 4000000 /dev/zero; exit 3"));
  CAF_REQUIRE(fast->wait_exit());
  CAF_CHECK_EQUAL(fast->size(1), 4000000u);
  CAF_CHECK_EQUAL(fast->status.exit_code(), 3);
  std::this_thread::sleep_for(200ms);
  // The slow one holds exactly its window and no more.
  CAF_CHECK_EQUAL(slow->size(1), opt.window);
  CAF_CHECK(slow->exits == 0);
  // Consumed, it runs to its end (the recorder drops its channel at the
  // exit; the test keeps its own).
  auto ch = slow->channel;
  CAF_REQUIRE(ch);
  std::size_t given = 0;
  CAF_REQUIRE(slow->wait_for(20s, [&] {
    auto have = slow->out[1].size();
    if (have > given) {
      ch->consumed(1, have - given);
      given = have;
    }
    return slow->exits > 0;
  }));
  CAF_CHECK_EQUAL(slow->size(1), 8000000u);
  CAF_CHECK_EQUAL(slow->status.exit_code(), 0);
}

CAF_TEST(executions beyond the cap wait their turn) {
  transport::agent_link_options opt;
  opt.max_executions = 2;
  make_host(opt);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<test::recorder>> rs;
  for (int i = 0; i < 4; ++i) rs.push_back(start(sh("sleep 0.4")));
  for (auto& r : rs) {
    CAF_REQUIRE(r->wait_exit());
    CAF_CHECK_EQUAL(r->status.exit_code(), 0);
  }
  // Two waves of two.
  auto took = std::chrono::steady_clock::now() - t0;
  CAF_CHECK(took >= 800ms);
  CAF_CHECK(took < 3s);
  CAF_CHECK_EQUAL(host->agents_started(), 1u);
}

CAF_TEST(the agent killed ends every execution lost and the next starts anew) {
  auto a = start(sh("echo up; sleep 100"));
  auto b = start(sh("echo up; sleep 100"));
  CAF_REQUIRE(a->wait_output(1, "up"));
  CAF_REQUIRE(b->wait_output(1, "up"));
  auto pid = agent_pid();
  CAF_REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  for (auto& r : {a, b}) {
    CAF_REQUIRE(r->wait_exit());
    CAF_CHECK(r->status.kind == kind::failed);
    CAF_CHECK(r->status.failure == transport::failure_kind::lost);
    CAF_CHECK_EQUAL(r->status.exit_code(), 255);
    CAF_CHECK_EQUAL(r->exits, 1);
  }
  auto c = start(sh("echo again"));
  CAF_REQUIRE(c->wait_exit());
  CAF_CHECK_EQUAL(c->stream(1), "again\n");
  CAF_CHECK_EQUAL(c->status.exit_code(), 0);
  CAF_CHECK_EQUAL(host->agents_started(), 2u);
}

CAF_TEST(closing the link leaves no process of any execution) {
  auto m = unique_marker("agent-host-drop");
  std::vector<std::shared_ptr<test::recorder>> rs;
  for (int i = 0; i < 3; ++i)
    rs.push_back(start(sh("trap '' TERM; sleep 100 & sleep 100; : " + m)));
  CAF_REQUIRE(wait_until(
      [&] {
        auto ps = processes_with_arg(m);
        if (ps.size() != 3) return false;
        for (auto p : ps)
          if (live_group_members(p).size() != 3) return false;
        return true;
      },
      5000));
  auto groups = processes_with_arg(m);
  host->close();
  for (auto& r : rs) {
    CAF_REQUIRE(r->wait_exit(10s));
    CAF_CHECK_EQUAL(r->status.exit_code(), 255);
  }
  CAF_CHECK(wait_until(
      [&] {
        for (auto g : groups)
          if (!live_group_members(g).empty()) return false;
        return true;
      },
      3000));
}

CAF_TEST(a seed agent makes the host fall back to one agent per execution) {
  make_host({}, "REMEX_AGENT_SEED_ONLY=1 ");
  std::vector<std::shared_ptr<test::recorder>> rs;
  for (int i = 0; i < 3; ++i)
    rs.push_back(start(sh("cat; exit " + std::to_string(i + 1))));
  for (int i = 0; i < 3; ++i) {
    rs[i]->channel->write(0, "in" + std::to_string(i));
    rs[i]->channel->close_stream(0);
  }
  for (int i = 0; i < 3; ++i) {
    CAF_REQUIRE(rs[i]->wait_exit());
    CAF_CHECK_EQUAL(rs[i]->stream(1), "in" + std::to_string(i));
    CAF_CHECK_EQUAL(rs[i]->status.exit_code(), i + 1);
  }
  CAF_CHECK(host->seed_fallback());
  // Later ones go straight to an agent of their own.
  auto r = start(sh("echo later"));
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(1), "later\n");
  CAF_CHECK_EQUAL(host->agents_started(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

#endif
