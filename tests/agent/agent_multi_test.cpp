// The persistent agent (protocol/PERSISTENT.md): hello, many executions at
// once over one stdin/stdout, per-execution credit, signals to one, and no
// process of any execution left when the link drops or the agent dies.
#define CAF_SUITE agent_multi
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <sstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"

using namespace remex;
using remex::test::agent_driver;
using remex::test::live_group_members;
using remex::test::processes_with_arg;
using remex::test::unique_marker;
using remex::test::wait_until;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

// Sends each execution's stdin interleaved, chunk by chunk, never more
// than win bytes ahead of the credit the agent granted back (a peer that
// ignores its credit gets the execution killed), then its eof.
bool send_within_credit(agent_driver& a,
                        const std::map<std::uint32_t, std::string>& inputs,
                        std::size_t win = 1024 * 1024,
                        std::size_t chunk = 32 * 1024) {
  std::map<std::uint32_t, std::size_t> sent;
  for (;;) {
    bool all_sent = true, progress = false;
    for (auto& [x, in] : inputs) {
      auto& off = sent[x];
      if (off >= in.size()) continue;
      all_sent = false;
      auto granted = a.execs[x].credit[0];
      if (off + chunk > granted + win) continue;
      a.send(
          protocol::with_xid(protocol::make_data(0, in.substr(off, chunk)), x));
      off += std::min(chunk, in.size() - off);
      progress = true;
    }
    if (all_sent) break;
    if (!progress) {
      std::map<std::uint32_t, std::uint64_t> before;
      for (auto& [x, in] : inputs) before[x] = a.execs[x].credit[0];
      if (!a.pump_until(
              [&] {
                for (auto& [x, in] : inputs)
                  if (a.execs[x].credit[0] != before[x]) return true;
                return false;
              },
              10000))
        return false;
    }
  }
  for (auto& [x, in] : inputs)
    a.send(protocol::with_xid(protocol::make_eof(0), x));
  return true;
}

bool all_exited(agent_driver& a, std::initializer_list<std::uint32_t> xids) {
  for (auto x : xids)
    if (!a.execs[x].exit_code) return false;
  return true;
}

bool all_exited(agent_driver& a, const std::vector<std::uint32_t>& xids) {
  for (auto x : xids)
    if (!a.execs[x].exit_code) return false;
  return true;
}

}  // namespace

CAF_TEST(hello is answered with version capabilities and the agreed limits) {
  agent_driver a;
  a.send_hello(8, 128 * 1024);
  CAF_REQUIRE(a.pump_until([&] { return a.hello.has_value(); }, 5000));
  CAF_CHECK_EQUAL(a.hello->v, protocol::persistent_version);
  CAF_REQUIRE_EQUAL(a.hello->caps.size(), 1u);
  CAF_CHECK_EQUAL(a.hello->caps[0], "multi");
  CAF_CHECK_EQUAL(a.hello->max, 8u);
  CAF_CHECK_EQUAL(a.hello->win, 128u * 1024);
  // Without a preference the agent states its defaults.
  agent_driver b;
  b.send_hello();
  CAF_REQUIRE(b.pump_until([&] { return b.hello.has_value(); }, 5000));
  CAF_CHECK_EQUAL(b.hello->max, 256u);
  CAF_CHECK_EQUAL(b.hello->win, 1024u * 1024);
  // Closing stdin with nothing running is the broker's normal goodbye.
  b.close_input();
  b.pump_until([] { return false; }, 100);
  auto st = b.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CAF_TEST(a seed client never sees the extension) {
  // No hello: the agent's answer carries no xid and no credit frames.
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "cat; echo done"});
  a.send(protocol::make_data(0, "in\n"));
  a.send(protocol::make_eof(0));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "in\ndone\n");
  CAF_CHECK(a.execs.empty());
  CAF_CHECK(!a.hello);
  for (auto t : a.order) CAF_CHECK(t != protocol::frame_type::credit);
}

CAF_TEST(two executions at once keep their bytes apart) {
  agent_driver a;
  a.send_hello();
  auto in1 = random_bytes(3 * 1024 * 1024 + 17, 1);
  auto in2 = random_bytes(2 * 1024 * 1024 + 5, 2);
  a.send_exec(1, "/bin/sh", {"sh", "-c", "cat; echo one >&2; exit 3"});
  a.send_exec(2, "/bin/sh", {"sh", "-c", "cat; echo two >&2; exit 4"});
  // Interleaved on the wire, chunk by chunk.
  CAF_REQUIRE(send_within_credit(a, {{1, in1}, {2, in2}}));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1, 2}); }));
  CAF_CHECK(a.execs[1].data[1] == in1);
  CAF_CHECK(a.execs[2].data[1] == in2);
  CAF_CHECK_EQUAL(a.execs[1].data[2], "one\n");
  CAF_CHECK_EQUAL(a.execs[2].data[2], "two\n");
  CAF_CHECK_EQUAL(*a.execs[1].exit_code, 3);
  CAF_CHECK_EQUAL(*a.execs[2].exit_code, 4);
  CAF_CHECK(a.execs[1].eofs.count(1) && a.execs[1].eofs.count(2));
  // Every input byte was granted back, so a writer never waits for ever.
  CAF_CHECK_EQUAL(a.execs[1].credit[0], in1.size());
  CAF_CHECK_EQUAL(a.execs[2].credit[0], in2.size());
  // Nothing of an execution came untagged.
  CAF_CHECK(a.data.empty());
  CAF_CHECK(!a.exit_code);
}

CAF_TEST(fifty executions at once each get exactly their own bytes) {
  agent_driver a;
  a.send_hello();
  std::map<std::uint32_t, std::string> inputs;
  for (std::uint32_t x = 1; x <= 50; ++x) {
    inputs[x] = random_bytes(100 * 1000 + x, x);
    a.send_exec(x, "/bin/sh",
                {"sh", "-c",
                 "cat; printf err" + std::to_string(x) + " >&2; exit " +
                     std::to_string(x)});
  }
  CAF_REQUIRE(send_within_credit(a, inputs, 1024 * 1024, 10 * 1000));
  CAF_REQUIRE(a.pump_until(
      [&] {
        for (std::uint32_t x = 1; x <= 50; ++x)
          if (!a.execs[x].exit_code) return false;
        return true;
      },
      30000));
  int exact = 0;
  for (auto& [x, in] : inputs) {
    auto& v = a.execs[x];
    if (v.data[1] == in && v.data[2] == "err" + std::to_string(x) &&
        *v.exit_code == static_cast<std::int64_t>(x))
      ++exact;
  }
  CAF_CHECK_EQUAL(exact, 50);
}

CAF_TEST(a signal reaches one execution only) {
  agent_driver a;
  a.send_hello();
  a.send_exec(1, "sleep", {"sleep", "100"});
  a.send_exec(2, "cat", {"cat"});
  a.send(protocol::with_xid(protocol::make_signal(SIGTERM), 1));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[1].exit_code, 143);
  CAF_CHECK(!a.execs[2].exit_code);
  // The other one is alive and well.
  a.send(protocol::with_xid(protocol::make_data(0, "still here"), 2));
  a.send(protocol::with_xid(protocol::make_eof(0), 2));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {2}); }, 5000));
  CAF_CHECK_EQUAL(a.execs[2].data[1], "still here");
  CAF_CHECK_EQUAL(*a.execs[2].exit_code, 0);
}

CAF_TEST(a signal sent right behind the exec reaches the command) {
  // The agent does not wait for an exec to be confirmed, so the signal can
  // reach the group while the child is still between fork and exec: it
  // must still end the command (and never reach the agent's own handler).
  agent_driver a;
  a.send_hello();
  std::vector<std::uint32_t> ids;
  for (std::uint32_t x = 1; x <= 20; ++x) {
    a.send_exec(x, "sleep", {"sleep", "100"});
    a.send(protocol::with_xid(protocol::make_signal(SIGTERM), x));
    ids.push_back(x);
  }
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, ids); }, 10000));
  int terminated = 0;
  for (auto x : ids)
    if (*a.execs[x].exit_code == 128 + SIGTERM) ++terminated;
  CAF_CHECK_EQUAL(terminated, 20);
  // The agent is still there for the next one.
  a.send_exec(21, "sh", {"sh", "-c", "exit 7"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {21}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[21].exit_code, 7);
}

CAF_TEST(an execution whose output is not taken does not stall another) {
  agent_driver a;
  constexpr std::size_t win = 64 * 1024;
  a.send_hello(0, win);
  a.withhold_credit = {1};
  a.send_exec(1, "/bin/sh", {"sh", "-c", "head -c 5000000 /dev/zero"});
  a.send_exec(2, "/bin/sh", {"sh", "-c", "head -c 3000000 /dev/zero; exit 7"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {2}); }, 10000));
  CAF_CHECK_EQUAL(a.execs[2].data[1].size(), 3000000u);
  CAF_CHECK_EQUAL(*a.execs[2].exit_code, 7);
  // Execution 1 sent exactly its window and waits for credit.
  a.pump_until([] { return false; }, 200);
  CAF_CHECK_EQUAL(a.execs[1].data[1].size(), win);
  CAF_CHECK(!a.execs[1].exit_code);
  // Credit given: it runs to its end.
  a.withhold_credit.clear();
  a.send(protocol::make_credit(1, 1, win));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1}); }, 10000));
  CAF_CHECK_EQUAL(a.execs[1].data[1].size(), 5000000u);
  CAF_CHECK_EQUAL(*a.execs[1].exit_code, 0);
}

CAF_TEST(input beyond the credit ends that execution only) {
  agent_driver a;
  a.send_hello(0, 64 * 1024);
  // Neither reads its stdin; the peer floods the first one.
  a.send_exec(1, "sleep", {"sleep", "100"});
  a.send_exec(2, "/bin/sh", {"sh", "-c", "sleep 0.3; echo fine"});
  for (int i = 0; i < 40; ++i)
    a.send(protocol::with_xid(
        protocol::make_data(0, std::string(64 * 1024, 'x')), 1));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1, 2}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[1].exit_code, 137);
  CAF_REQUIRE_EQUAL(a.execs[1].errors.size(), 1u);
  CAF_CHECK(a.execs[1].errors[0].find("credit") != std::string::npos);
  CAF_CHECK_EQUAL(a.execs[2].data[1], "fine\n");
  CAF_CHECK_EQUAL(*a.execs[2].exit_code, 0);
}

CAF_TEST(executions beyond the cap are refused with an error and 255) {
  agent_driver a;
  a.send_hello(2);
  a.send_exec(1, "sleep", {"sleep", "100"});
  a.send_exec(2, "sleep", {"sleep", "100"});
  a.send_exec(3, "true", {"true"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {3}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[3].exit_code, 255);
  CAF_REQUIRE_EQUAL(a.execs[3].errors.size(), 1u);
  CAF_CHECK(a.execs[3].errors[0].find("too many") != std::string::npos);
  // A slot that frees up takes the next one.
  a.send(protocol::with_xid(protocol::make_signal(SIGKILL), 1));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1}); }, 5000));
  a.send_exec(4, "true", {"true"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {4}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[4].exit_code, 0);
  a.send(protocol::with_xid(protocol::make_signal(SIGKILL), 2));
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {2}); }, 5000));
}

CAF_TEST(a command that cannot start fails only its own execution) {
  agent_driver a;
  a.send_hello();
  a.send_exec(1, "/nonexistent/remex-nope", {"remex-nope"});
  a.send_exec(2, "true", {"true"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1, 2}); }, 5000));
  CAF_CHECK_EQUAL(*a.execs[1].exit_code, 127);
  CAF_REQUIRE_EQUAL(a.execs[1].errors.size(), 1u);
  CAF_CHECK_EQUAL(*a.execs[2].exit_code, 0);
}

CAF_TEST(link drop ends the process group of every execution) {
  auto marker = unique_marker("multi-drop");
  agent_driver a;
  a.send_hello();
  for (std::uint32_t x = 1; x <= 3; ++x)
    // TERM ignored: the agent has to escalate to KILL for each group.
    a.send_exec(x, "/bin/sh",
                {"sh", "-c", "trap '' TERM; sleep 100 & sleep 100", marker});
  std::vector<pid_t> groups;
  CAF_REQUIRE(a.pump_until(
      [&] {
        groups = processes_with_arg(marker);
        if (groups.size() != 3) return false;
        for (auto g : groups)
          if (live_group_members(g).size() != 3) return false;
        return true;
      },
      5000));
  a.close_input();
  a.pump_until([] { return false; }, 100);
  auto st = a.wait_agent(8000);
  CAF_REQUIRE(st != -1);
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
  CAF_CHECK(wait_until(
      [&] {
        for (auto g : groups)
          if (!live_group_members(g).empty()) return false;
        return processes_with_arg(marker).empty();
      },
      2000));
}

CAF_TEST(killing the persistent agent outright ends every group) {
  auto marker = unique_marker("multi-sigkill");
  agent_driver a;
  a.send_hello();
  for (std::uint32_t x = 1; x <= 3; ++x)
    a.send_exec(x, "/bin/sh", {"sh", "-c", "sleep 60; true", marker});
  std::vector<pid_t> groups;
  CAF_REQUIRE(a.pump_until(
      [&] {
        groups = processes_with_arg(marker);
        if (groups.size() != 3) return false;
        for (auto g : groups)
          if (live_group_members(g).size() != 2) return false;
        return true;
      },
      5000));
  ::kill(a.pid(), SIGKILL);
  CAF_REQUIRE(a.wait_agent() != -1);
  CAF_CHECK(wait_until(
      [&] {
        for (auto g : groups)
          if (!live_group_members(g).empty()) return false;
        return processes_with_arg(marker).empty();
      },
      1500));
}

CAF_TEST(background jobs of an ended execution do not hold up the others) {
  agent_driver a;
  a.send_hello();
  // Lets go of its pipes, ignores TERM: the agent KILLs it after 2 s.
  a.send_exec(1, "/bin/sh",
              {"sh", "-c",
               "echo $$; (trap '' TERM; exec sleep 100) >/dev/null 2>&1 "
               "</dev/null &"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {1}); }, 5000));
  pid_t pgid = std::atoi(a.execs[1].data[1].c_str());
  CAF_REQUIRE(pgid > 1);
  CAF_CHECK(!live_group_members(pgid).empty());
  // Meanwhile another execution runs at full speed.
  a.send_exec(2, "true", {"true"});
  CAF_REQUIRE(a.pump_until([&] { return all_exited(a, {2}); }, 500));
  CAF_CHECK(
      a.pump_until([&] { return live_group_members(pgid).empty(); }, 4000));
}
