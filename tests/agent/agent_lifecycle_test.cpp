// Signals, death, the link dropping, bad input and backpressure: the agent
// never leaves a process behind and never buffers without bound.
#define CAF_SUITE agent_lifecycle
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"

using namespace remex;
using remex::test::agent_driver;
using remex::test::live_group_members;
using remex::test::process_alive;
using remex::test::processes_with_arg;
using remex::test::unique_marker;
using remex::test::wait_until;

namespace {

// Reads whitespace-separated pids the command printed on stdout.
std::vector<pid_t> printed_pids(const std::string& out) {
  std::vector<pid_t> pids;
  std::istringstream in(out);
  for (long p; in >> p;) pids.push_back(static_cast<pid_t>(p));
  return pids;
}

bool all_gone(const std::vector<pid_t>& pids, pid_t pgid) {
  for (int i = 0; i < 200; ++i) {
    bool alive = !live_group_members(pgid).empty();
    for (auto p : pids) alive = alive || process_alive(p);
    if (!alive) return true;
    ::usleep(10 * 1000);
  }
  return false;
}

long vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

CAF_TEST(death by signal TERM reports 143) {
  agent_driver a;
  a.send_exec("sleep", {"sleep", "100"});
  a.send(protocol::make_signal(SIGTERM));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(*a.exit_code, 143);
}

CAF_TEST(signals reach a trapping shell) {
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c",
                          "trap 'echo got USR1; exit 7' USR1; echo ready; "
                          "while :; do sleep 0.05; done"});
  CAF_REQUIRE(a.pump_until([&] { return a.data[1] == "ready\n"; }));
  a.send(protocol::make_signal(SIGUSR1));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "ready\ngot USR1\n");
  CAF_CHECK_EQUAL(*a.exit_code, 7);
}

CAF_TEST(a signal reaches grandchildren in the group too) {
  agent_driver a;
  a.send_exec("/bin/sh",
              {"sh", "-c", "sleep 100 & echo $$ $!; wait; sleep 100"});
  CAF_REQUIRE(
      a.pump_until([&] { return printed_pids(a.data[1]).size() == 2; }));
  auto pids = printed_pids(a.data[1]);
  CAF_CHECK(process_alive(pids[1]));
  a.send(protocol::make_signal(SIGKILL));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(*a.exit_code, 128 + SIGKILL);
  CAF_CHECK(all_gone(pids, pids[0]));
}

CAF_TEST(
    a background job holding stdout holds the exit and its output arrives) {
  // As under sshd: the exit waits until stdout and stderr are closed.
  agent_driver a;
  a.send_exec("/bin/sh",
              {"sh", "-c", "(sleep 1; echo late) & echo early; exit 3"});
  CAF_REQUIRE(a.run_to_end(10000));
  CAF_CHECK_EQUAL(*a.exit_code, 3);
  CAF_CHECK_EQUAL(a.data[1], "early\nlate\n");
}

CAF_TEST(background jobs that let go of the pipes do not outlive the agent) {
  agent_driver a;
  a.send_exec("/bin/sh",
              {"sh", "-c", "sleep 100 >/dev/null 2>&1 & echo $$ $!; exit 3"});
  CAF_REQUIRE(a.run_to_end(10000));
  CAF_CHECK_EQUAL(*a.exit_code, 3);
  auto pids = printed_pids(a.data[1]);
  CAF_REQUIRE_EQUAL(pids.size(), 2u);
  CAF_CHECK(all_gone(pids, pids[0]));
}

CAF_TEST(link drop kills the whole process group) {
  agent_driver a;
  // The shell ignores TERM, so the agent has to escalate to KILL.
  a.send_exec("/bin/sh",
              {"sh", "-c", "trap '' TERM; sleep 100 & echo $$ $!; sleep 100"});
  CAF_REQUIRE(
      a.pump_until([&] { return printed_pids(a.data[1]).size() == 2; }));
  auto pids = printed_pids(a.data[1]);
  a.close_input();
  a.pump_until([] { return false; }, 100);  // flush the close
  auto st = a.wait_agent(8000);
  CAF_REQUIRE(st != -1);
  CAF_CHECK(WIFEXITED(st));
  CAF_CHECK(all_gone(pids, pids[0]));
  CAF_CHECK(!a.exit_code.has_value());
}

CAF_TEST(killing the agent outright kills the whole process group) {
  // SIGKILL leaves the agent no time to clean up: only the guard it left
  // behind can end the group. The parent-death signal alone would take the
  // shell but leave its `sleep` running under init.
  auto marker = unique_marker("agent-sigkill");
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "sleep 60; true", marker});
  pid_t pgid = -1;
  CAF_REQUIRE(a.pump_until(
      [&] {
        auto shells = processes_with_arg(marker);
        if (shells.size() != 1) return false;
        pgid = shells[0];
        return live_group_members(pgid).size() == 2;  // sh and sleep
      },
      5000));
  ::kill(a.pid(), SIGKILL);
  CAF_REQUIRE(a.wait_agent() != -1);
  CAF_CHECK(wait_until(
      [&] {
        return live_group_members(pgid).empty() &&
               processes_with_arg(marker).empty();
      },
      1500));
}

CAF_TEST(a peer that stops reading stdout also ends the group) {
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "echo $$; sleep 0.2; exec yes"});
  CAF_REQUIRE(a.pump_until([&] { return !printed_pids(a.data[1]).empty(); }));
  auto pids = printed_pids(a.data[1]);
  a.close_output();
  auto st = a.wait_agent(8000);
  CAF_REQUIRE(st != -1);
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
  CAF_CHECK(all_gone(pids, pids[0]));
}

CAF_TEST(malformed input gives an error frame and a clean exit) {
  agent_driver a;
  a.send_raw(std::string("\xff\xfe\x00garbage", 10));
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_MESSAGE("error: " << a.errors[0]);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

CAF_TEST(malformed input during a run kills the child) {
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "echo $$; exec sleep 100"});
  CAF_REQUIRE(a.pump_until([&] { return !printed_pids(a.data[1]).empty(); }));
  auto pids = printed_pids(a.data[1]);
  a.send_raw("\x9f\xff\xff\xff");
  a.pump_until([&] { return a.output_closed(); });
  CAF_CHECK_EQUAL(a.errors.size(), 1u);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
  CAF_CHECK(all_gone(pids, pids[0]));
}

CAF_TEST(an oversize frame gives an error frame and a clean exit) {
  agent_driver a;
  std::string head;
  protocol::encode_data_head(0, 512u * 1024 * 1024, head);
  a.send_raw(head + "xxxx");
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_MESSAGE("error: " << a.errors[0]);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

CAF_TEST(unknown frame types are logged and ignored) {
  agent_driver a;
  protocol::frame odd;
  odd.t = static_cast<protocol::frame_type>(77);
  a.send(odd);
  a.send_exec("echo", {"echo", "still here"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "still here\n");
  CAF_REQUIRE_EQUAL(a.logs.size(), 1u);
  CAF_CHECK_EQUAL(a.logs[0].lvl, protocol::log_warn);
  CAF_CHECK(a.logs[0].msg.find("77") != std::string::npos);
}

CAF_TEST(a peer that does not read keeps the agent memory bounded) {
  agent_driver a;
  a.keep_data = false;
  constexpr std::size_t total = 100u * 1024 * 1024;
  a.send_exec("head", {"head", "-c", std::to_string(total), "/dev/zero"});
  a.pump_until([&] { return a.data_bytes[1] > 0; });
  a.read_output = false;
  // The child keeps writing for a while; the agent must stop reading it.
  a.pump_until([] { return false; }, 1500);
  auto rss = vm_rss_kib(a.pid());
  CAF_MESSAGE("agent VmRSS while the peer stalls: " << rss << " KiB");
  CAF_CHECK(rss > 0 && rss < 40 * 1024);
  a.read_output = true;
  CAF_REQUIRE(a.run_to_end(60000));
  CAF_CHECK_EQUAL(a.data_bytes[1], total);
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}

CAF_TEST(a child that does not read its stdin keeps the agent memory bounded) {
  agent_driver a;
  constexpr std::size_t total = 64u * 1024 * 1024;
  a.send_exec("/bin/sh", {"sh", "-c", "sleep 1.5; exec wc -c"});
  std::string chunk(1024 * 1024, 'x');
  for (std::size_t sent = 0; sent < total; sent += chunk.size())
    a.send(protocol::make_data(0, chunk));
  a.send(protocol::make_eof(0));
  a.pump_until([] { return false; }, 1000);
  auto rss = vm_rss_kib(a.pid());
  CAF_MESSAGE("agent VmRSS while the child does not read: " << rss << " KiB");
  CAF_CHECK(rss > 0 && rss < 40 * 1024);
  CAF_REQUIRE(a.run_to_end(30000));
  CAF_CHECK_EQUAL(a.data[1], std::to_string(total) + "\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}
