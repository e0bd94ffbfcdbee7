// Backend-neutral behaviour checks: every session_provider (local pipes,
// libssh against sshd) must pass them. Each takes the provider and reports
// through the CAF test macros of the calling suite.
#pragma once

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "caf/test/unit_test.hpp"
#include "tests/transport/recorder.hpp"
#include "transport/session_provider.hpp"
#include "transport/shell_command.hpp"

namespace remex::test::behaviour {

using namespace std::chrono_literals;
using transport::exit_status;
using kind = transport::exit_status::kind_t;

inline std::shared_ptr<recorder> run(transport::session_provider& p,
                                     const std::string& line,
                                     std::vector<std::string> env = {},
                                     bool consume = true) {
  auto r = std::make_shared<recorder>(consume);
  r->attach(p.open_exec(line, std::move(env), r));
  return r;
}

// Runs a sh script the way the plain-ssh backend does (bootstrap line,
// script in-band).
inline std::shared_ptr<recorder> run_script(transport::session_provider& p,
                                            const std::string& script,
                                            bool consume = true) {
  auto r = std::make_shared<recorder>(consume);
  r->attach(transport::open_sh_script(p, script, r));
  return r;
}

inline void exec_output_and_codes(transport::session_provider& p) {
  auto r = run(p, "echo out; echo err >&2; exit 3");
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(1), "out\n");
  CAF_CHECK_EQUAL(r->stream(2), "err\n");
  CAF_CHECK(r->status.kind == kind::exited);
  CAF_CHECK_EQUAL(r->status.code, 3);
  CAF_CHECK(r->eof[1] && r->eof[2]);
  auto ok = run(p, "true");
  CAF_REQUIRE(ok->wait_exit());
  CAF_CHECK_EQUAL(ok->status.exit_code(), 0);
  auto missing = run(p, "/nonexistent/remex-no-such-program");
  CAF_REQUIRE(missing->wait_exit());
  CAF_CHECK_EQUAL(missing->status.exit_code(), 127);
}

inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen{seed};
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

// Writes a few MB in chunks while cat echoes them back: writing and reading
// overlap, and every byte must come back in order.
inline void stdin_round_trip(transport::session_provider& p) {
  auto data = random_bytes(4 * 1024 * 1024 + 17, 42);
  auto r = run(p, "cat");
  auto ch = r->current();
  CAF_REQUIRE(ch != nullptr);
  constexpr std::size_t chunk = 64 * 1024;
  for (std::size_t off = 0; off < data.size(); off += chunk) {
    // Keep at most a window in flight, as a well-behaved writer does.
    r->wait_for(10s, [&] {
      return off - r->drained < transport::default_window || r->exits > 0;
    });
    ch->write(0, data.substr(off, chunk));
  }
  ch->close_stream(0);
  CAF_REQUIRE(r->wait_exit(60s));
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);
  auto got = r->stream(1);
  CAF_CHECK_EQUAL(got.size(), data.size());
  CAF_CHECK(got == data);
  CAF_CHECK_EQUAL(r->drained, data.size());
}

inline void exit_signal_mapping(transport::session_provider& p) {
  auto r = run(p, "kill -TERM $$");
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK(r->status.kind == kind::signaled);
  CAF_CHECK_EQUAL(r->status.signal, SIGTERM);
  CAF_CHECK_EQUAL(r->status.exit_code(), 143);
}

inline void env_entries(transport::session_provider& p) {
  auto r = run(p, "printf '%s|%s' \"$REMEX_T1\" \"$REMEX_T2\"",
               {"REMEX_T1=a b 'c'", "REMEX_T2=ünï"});
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(1), "a b 'c'|ünï");
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);
}

inline void signal_to_trapping_script(transport::session_provider& p) {
  auto r = run(p,
               "trap 'echo got-usr1; exit 7' USR1; echo ready; "
               "while :; do sleep 0.1; done");
  CAF_REQUIRE(r->wait_output(1, "ready\n"));
  r->current()->signal(SIGUSR1);
  CAF_REQUIRE(r->wait_exit(10s));
  CAF_CHECK_EQUAL(r->stream(1), "ready\ngot-usr1\n");
  CAF_CHECK(r->status.kind == kind::exited);
  CAF_CHECK_EQUAL(r->status.code, 7);
}

inline void many_concurrent_channels(transport::session_provider& p) {
  std::vector<std::shared_ptr<recorder>> rs;
  for (int i = 0; i < 50; ++i)
    rs.push_back(run(p, "echo " + std::to_string(i) + "; sleep 0.3; exit " +
                            std::to_string(i)));
  int good = 0;
  for (int i = 0; i < 50; ++i) {
    if (!rs[i]->wait_exit(60s)) continue;
    if (rs[i]->stream(1) == std::to_string(i) + "\n" &&
        rs[i]->status.kind == kind::exited && rs[i]->status.code == i)
      ++good;
  }
  CAF_CHECK_EQUAL(good, 50);
}

inline bool group_gone(int pgid, std::chrono::milliseconds t) {
  auto end = std::chrono::steady_clock::now() + t;
  do {
    if (::kill(-pgid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < end);
  return false;
}

// The command leads its process group (as under sshd): terminate() must
// leave none of it, even a member that ignores SIGTERM.
inline void terminate_kills_group(transport::session_provider& p) {
  auto r = run(p,
               "sleep 300 & (trap '' TERM; sleep 301; sleep 302) & "
               "echo pgid=$$; wait");
  CAF_REQUIRE(r->wait_output(1, "\n"));
  auto out = r->stream(1);
  CAF_REQUIRE(out.rfind("pgid=", 0) == 0);
  int pgid = std::stoi(out.substr(5));
  CAF_REQUIRE(pgid > 1);
  CAF_CHECK_EQUAL(::getpgid(pgid), pgid);
  r->current()->terminate();
  CAF_REQUIRE(r->wait_exit(15s));
  CAF_CHECK(r->status.exit_code() != 0);
  CAF_CHECK(group_gone(pgid, 5s));
  CAF_CHECK_EQUAL(r->exits, 1);
}

// A listener that never consumes: the transport stops reading, the writer
// blocks, and memory stays bounded by the window; credit resumes it.
inline void flow_control(transport::session_provider& p,
                         std::size_t bound = 4 * transport::default_window) {
  constexpr std::size_t total = 64 * 1024 * 1024;
  auto r = run(p, "head -c " + std::to_string(total) + " /dev/zero", {}, false);
  auto ch = r->current();
  CAF_REQUIRE(ch != nullptr);
  std::this_thread::sleep_for(1500ms);
  auto held = r->size(1);
  CAF_MESSAGE("held unconsumed: " << held << " bytes");
  CAF_CHECK(held >= transport::default_window / 2);
  CAF_CHECK(held <= bound);
  CAF_CHECK_EQUAL(r->exits, 0);  // the writer is blocked, not finished
  std::size_t paid = 0;
  while (!r->wait_exit(20ms)) {
    auto now = r->size(1);
    if (now > paid) ch->consumed(1, now - paid), paid = now;
  }
  CAF_CHECK_EQUAL(r->size(1), total);
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);
}

inline std::vector<std::string> nasty_args() {
  return {"plain",       "two words", "it's",  "\"dq\"", "new\nline",
          "tab\there",   "ünïcødé ✓", "",      "$HOME",  "*",
          "back\\slash", "`id`",      "$(id)", "-n",     "a;b|c&d",
          "'",           "''",        "\\'",   "~",      "!x"};
}

// Exact argv through the remote shell: printf prints each argument NUL
// terminated, so any change to any byte shows.
inline void quoting_round_trip(transport::session_provider& p) {
  transport::command cmd;
  cmd.path = "printf";
  cmd.argv = {"printf", "%s\\0"};
  std::string want;
  for (auto& a : nasty_args()) {
    cmd.argv.push_back(a);
    want += a;
    want += '\0';
  }
  auto r = run_script(p, transport::ssh_command_script(cmd));
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->stream(1), want);
  CAF_CHECK_EQUAL(r->status.exit_code(), 0);

  // cwd and env go through the same quoting.
  transport::command c2;
  c2.path = "/bin/sh";
  c2.argv = {"sh", "-c", "pwd; printf '%s' \"$REMEX_Q\""};
  c2.cwd = "/";
  c2.env = {"REMEX_Q=$HOME 'x' *"};
  auto r2 = run_script(p, transport::ssh_command_script(c2));
  CAF_REQUIRE(r2->wait_exit());
  CAF_CHECK_EQUAL(r2->stream(1), "/\n$HOME 'x' *");

  transport::command c3;
  c3.path = "true";
  c3.argv = {"true"};
  c3.cwd = "/nonexistent/remex dir";
  auto r3 = run_script(p, transport::ssh_command_script(c3));
  CAF_REQUIRE(r3->wait_exit());
  CAF_CHECK_EQUAL(r3->status.exit_code(), 127);
  CAF_CHECK(r3->stream(2).find("/nonexistent/remex dir") != std::string::npos);
}

}  // namespace remex::test::behaviour
