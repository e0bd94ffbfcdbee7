// shell_quote, the bootstrap line and ssh_command_script, checked by what
// real shells make of them.
#define CAF_SUITE shell_command
#include "transport/shell_command.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include "caf/test/unit_test.hpp"
#include "tests/transport/behaviour.hpp"

using namespace remex;

namespace {
// What `sh -c "printf '%s\0' QUOTED"` prints, i.e. the word sh parsed.
std::string through_sh(const std::string& quoted) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    std::string line = "printf '%s\\0' " + quoted;
    ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, n);
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return out;
}
}  // namespace

CAF_TEST(shell_quote is byte exact through sh) {
  for (auto& a : test::behaviour::nasty_args())
    CAF_CHECK_EQUAL(through_sh(transport::shell_quote(a)), a + '\0');
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes += static_cast<char>(c);
  CAF_CHECK(through_sh(transport::shell_quote(all_bytes)) == all_bytes + '\0');
  CAF_CHECK_EQUAL(transport::shell_quote(""), "''");
  CAF_CHECK_EQUAL(transport::shell_quote("it's"), "'it'\\''s'");
}

// Runs `shell -c line` with `input` on stdin; returns stdout.
std::string run_shell(const std::string& shell, const std::string& line,
                      const std::string& input) {
  int in[2], out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) return "pipe failed";
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    ::execl(shell.c_str(), shell.c_str(), "-c", line.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  // Small enough for the pipe buffer: no writer thread needed.
  auto ignored = ::write(in[1], input.data(), input.size());
  (void)ignored;
  ::close(in[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) got.append(buf, n);
  ::close(out[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  return got;
}

CAF_TEST(the bootstrap line runs the exact script under every login shell) {
  transport::command cmd;
  cmd.path = "/bin/sh";
  cmd.argv = {"sh", "-c", "printf '%s\\0' \"$REMEX_Q\" \"$@\"; cat", "sh"};
  std::string want = std::string{"$HOME 'x' \\n *"} + '\0';
  for (auto& a : test::behaviour::nasty_args()) {
    cmd.argv.push_back(a);
    want += a + '\0';
  }
  cmd.env = {"REMEX_Q=$HOME 'x' \\n *"};
  cmd.cwd = "/";
  auto input = transport::sh_payload(transport::ssh_command_script(cmd)) +
               "the command's own stdin\n";
  want += "the command's own stdin\n";
  for (std::string shell : {"/bin/sh", "/bin/bash", "/usr/bin/zsh",
                            "/usr/bin/fish", "/usr/bin/tcsh"}) {
    CAF_MESSAGE("login shell " << shell);
    CAF_REQUIRE(::access(shell.c_str(), X_OK) == 0);  // tools/install-deps
    CAF_CHECK(run_shell(shell, transport::sh_bootstrap_line(), input) == want);
  }
}

CAF_TEST(the bootstrap line carries no part of the request) {
  transport::command cmd;
  cmd.path = "printf";
  cmd.argv = {"printf", "%s\\0", "a b", ""};
  cmd.env = {"TOKEN=remex-secret-marker"};
  auto script = transport::ssh_command_script(cmd);
  CAF_CHECK(script.find("exec 'printf' '%s\\0' 'a b' ''") != std::string::npos);
  CAF_CHECK(script.find("export TOKEN='remex-secret-marker';") !=
            std::string::npos);
  CAF_CHECK(transport::sh_bootstrap_line().find("remex-secret-marker") ==
            std::string::npos);
}
