// shell_quote and ssh_command_line, checked by what /bin/sh makes of them.
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

CAF_TEST(ssh_command_line execs the program with the exact argv) {
  transport::command cmd;
  cmd.path = "printf";
  cmd.argv = {"printf", "%s\\0", "a b", ""};
  auto line = transport::ssh_command_line(cmd);
  CAF_CHECK(line.find("exec 'printf' '%s\\0' 'a b' ''") != std::string::npos);
}
