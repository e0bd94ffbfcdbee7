// Running commands through the agent: bytes, streams, exit codes, extra fds,
// environment policy, cwd and the ways a start can fail.
#define CAF_SUITE agent_exec
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex;
using remex::test::agent_driver;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

void send_input(agent_driver& a, std::uint32_t s, const std::string& bytes,
                std::size_t chunk = 64 * 1024) {
  for (std::size_t off = 0; off < bytes.size(); off += chunk)
    a.send(protocol::make_data(s, bytes.substr(off, chunk)));
  a.send(protocol::make_eof(s));
}

// Frames as a seed client writes them, by hand.
std::string raw_config(const std::vector<std::string>& keep,
                       const std::vector<std::string>& remove) {
  remex::test::raw r;
  r.map(2).text("t").uint(8).text("cfg").map(2);
  r.text("env_keep").array(keep.size());
  for (auto& k : keep) r.text(k);
  r.text("env_remove").array(remove.size());
  for (auto& k : remove) r.text(k);
  return r.out;
}

std::string raw_exec(const std::string& path,
                     const std::vector<std::string>& argv,
                     const std::vector<std::string>& env = {}) {
  remex::test::raw r;
  r.map(2).text("t").uint(1).text("x").map(3);
  r.text("path").text(path);
  r.text("argv").array(argv.size());
  for (auto& a : argv) r.text(a);
  r.text("env").array(env.size());
  for (auto& e : env) r.text(e);
  return r.out;
}

protocol::frame exec_frame(std::string path, std::vector<std::string> argv) {
  protocol::frame f;
  f.t = protocol::frame_type::exec;
  protocol::exec_msg x;
  x.path = std::move(path);
  x.argv = std::move(argv);
  f.x = std::move(x);
  return f;
}

}  // namespace

CAF_TEST(cat round trip of random bytes keeps every byte) {
  agent_driver a;
  auto input = random_bytes(6 * 1024 * 1024 + 123, 7);
  a.send_exec("cat", {"cat"});
  send_input(a, 0, input);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1].size(), input.size());
  CAF_CHECK(a.data[1] == input);
  CAF_CHECK(a.data[2].empty());
  CAF_CHECK(a.eofs.count(1) == 1 && a.eofs.count(2) == 1);
  CAF_CHECK_EQUAL(*a.exit_code, 0);
  CAF_CHECK(a.order.back() == protocol::frame_type::exit);
  CAF_CHECK(a.errors.empty());
}

CAF_TEST(echo prints its arguments exactly) {
  agent_driver a;
  a.send_exec("echo", {"echo", "hello", "world"});
  a.send(protocol::make_eof(0));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "hello world\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}

CAF_TEST(binary stdin with NUL bytes and no newline comes back unchanged) {
  agent_driver a;
  std::string input("a\0b\0\xff\n\r\0", 8);
  a.send_exec("/bin/cat", {"cat"});
  send_input(a, 0, input);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK(a.data[1] == input);
}

CAF_TEST(stdout and stderr stay apart) {
  agent_driver a;
  a.send_exec("/bin/sh",
              {"sh", "-c", "printf out1; printf err1 >&2; printf out2"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "out1out2");
  CAF_CHECK_EQUAL(a.data[2], "err1");
}

CAF_TEST(exit codes are reported) {
  for (int code : {0, 42}) {
    agent_driver a;
    a.send_exec("sh", {"sh", "-c", "exit " + std::to_string(code)});
    CAF_REQUIRE(a.run_to_end());
    CAF_CHECK_EQUAL(*a.exit_code, code);
    CAF_CHECK(WIFEXITED(a.wait_agent()) && WEXITSTATUS(a.wait_agent()) == 0);
  }
}

CAF_TEST(extra fds 3 and 4 carry data both ways) {
  agent_driver a;
  // 3 → 4, then a reply on 3, then 4 → 3.
  a.send_exec("/bin/sh",
              {"sh", "-c", "cat <&3 >&4; printf three >&3; cat <&4 >&3"},
              {3, 4});
  a.send(protocol::make_eof(0));
  a.send(protocol::make_data(3, "to3"));
  a.send(protocol::make_eof(3));
  a.send(protocol::make_data(4, "to4"));
  a.send(protocol::make_eof(4));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[4], "to3");
  CAF_CHECK_EQUAL(a.data[3], "threeto4");
  CAF_CHECK(a.eofs.count(3) == 1 && a.eofs.count(4) == 1);
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}

CAF_TEST(the child sees eof on an extra fd when the peer closes it) {
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "wc -c <&5"}, {5});
  a.send(protocol::make_data(5, "12345678"));
  a.send(protocol::make_eof(5));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "8\n");
}

CAF_TEST(
    env policy keeps and removes by glob and regex then applies the request) {
  agent_driver a({{"PATH=/usr/bin:/bin", "FOO_A=1", "FOO_B=2", "BAR=3",
                   "KEEP_ME=4", "XKEEP_NOT=5"}});
  protocol::frame cfg;
  cfg.t = protocol::frame_type::config;
  protocol::agent_config c;
  c.env_keep = {"FOO_*", "/^KEEP_/", "PATH"};
  c.env_remove = {"FOO_B"};
  cfg.cfg = c;
  a.send(cfg);
  auto ex = exec_frame("env", {"env"});
  ex.x->env = {"NEW=5", "FOO_A=override"};
  a.send(ex);
  CAF_REQUIRE(a.run_to_end());
  std::set<std::string> lines;
  std::istringstream in(a.data[1]);
  for (std::string l; std::getline(in, l);) lines.insert(l);
  std::set<std::string> want{"PATH=/usr/bin:/bin", "FOO_A=override",
                             "KEEP_ME=4", "NEW=5"};
  CAF_CHECK_EQUAL(lines, want);
}

CAF_TEST(env remove works without keep) {
  agent_driver a({{"PATH=/usr/bin:/bin", "SECRET_TOKEN=x", "HOME=/root"}});
  protocol::frame cfg;
  cfg.t = protocol::frame_type::config;
  protocol::agent_config c;
  c.env_remove = {"/TOKEN$/", "/[unclosed/"};
  cfg.cfg = c;
  a.send(cfg);
  a.send(exec_frame("env", {"env"}));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK(a.data[1].find("SECRET_TOKEN") == std::string::npos);
  CAF_CHECK(a.data[1].find("HOME=/root\n") != std::string::npos);
  CAF_REQUIRE_EQUAL(a.logs.size(), 1u);
  CAF_CHECK_EQUAL(a.logs[0].lvl, protocol::log_warn);
  CAF_CHECK(a.logs[0].msg.find("/[unclosed/") != std::string::npos);
}

CAF_TEST(an env pattern of two slashes is a glob not a regex) {
  // "//" as a regex would be the empty expression, matching every name.
  agent_driver a({{"PATH=/usr/bin:/bin", "ONE=1", "TWO=2"}});
  a.send_raw(raw_config({"//", "PATH", "/^T/"}, {"//"}));
  a.send_raw(raw_exec("env", {"env"}));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "PATH=/usr/bin:/bin\nTWO=2\n");
  CAF_CHECK(a.logs.empty());
}

CAF_TEST(cwd is honoured) {
  agent_driver a;
  auto ex = exec_frame("pwd", {"pwd"});
  ex.x->cwd = "/usr/share";
  a.send(ex);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "/usr/share\n");
}

CAF_TEST(a command that is not found exits 127 with a message) {
  agent_driver a;
  a.send_exec("no-such-command-xyz", {"no-such-command-xyz"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(*a.exit_code, 127);
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("no-such-command-xyz") != std::string::npos);
  CAF_CHECK(a.errors[0].find("not found") != std::string::npos);
}

CAF_TEST(an absolute path that does not exist exits 127) {
  agent_driver a;
  a.send_exec("/nonexistent/tool", {"tool"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(*a.exit_code, 127);
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("/nonexistent/tool") != std::string::npos);
}

CAF_TEST(a file that is not executable exits 126) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/script";
  std::ofstream(file) << "#!/bin/sh\necho hi\n";
  ::chmod(file.c_str(), 0644);
  // Through PATH as well as by path.
  for (std::string path : {file, std::string("script")}) {
    agent_driver a;
    auto ex = exec_frame(path, {"script"});
    ex.x->env = {"PATH=" + dir};
    a.send(ex);
    CAF_REQUIRE(a.run_to_end());
    CAF_CHECK_EQUAL(*a.exit_code, 126);
    CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
    CAF_CHECK(a.errors[0].find("script") != std::string::npos);
  }
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

CAF_TEST(a cwd that does not exist exits 127 naming it) {
  agent_driver a;
  auto ex = exec_frame("true", {"true"});
  ex.x->cwd = "/no/such/dir-abc";
  a.send(ex);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(*a.exit_code, 127);
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("/no/such/dir-abc") != std::string::npos);
}

CAF_TEST(PATH lookup uses the command environment) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/only-here";
  std::ofstream(file) << "#!/bin/sh\necho found-me\n";
  ::chmod(file.c_str(), 0755);
  agent_driver a;
  auto ex = exec_frame("only-here", {"only-here"});
  ex.x->env = {"PATH=/usr/bin:/bin:" + dir};
  a.send(ex);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "found-me\n");
  std::remove(file.c_str());
  ::rmdir(dir.c_str());
}

CAF_TEST(the command starts with no signal ignored) {
  // The agent ignores SIGPIPE; a command inheriting that would not die
  // quietly in `yes | head`.
  agent_driver a;
  a.send_exec("grep", {"grep", "SigIgn", "/proc/self/status"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "SigIgn:\t0000000000000000\n");
}

CAF_TEST(an argument as long as Linux allows is passed whole) {
  // MAX_ARG_STRLEN is 128 KiB including the NUL.
  std::string big(128 * 1024 - 1, 'a');
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "printf %s \"$1\" | wc -c", "sh", big});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK(a.errors.empty());
  CAF_CHECK_EQUAL(a.data[1], std::to_string(big.size()) + "\n");
}

namespace {

// n strings of 100 bytes with the given prefix and a number.
std::vector<std::string> hundreds(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto s = prefix + std::to_string(i) + "=";
    out.push_back(s + std::string(100 - s.size(), 'v'));
  }
  return out;
}

}  // namespace

CAF_TEST(an argv of 1.5 MB runs) {
  std::vector<std::string> argv{"sh", "-c", "echo $#; echo \"${15000}\"", "sh"};
  auto big = hundreds("arg", 15000);
  argv.insert(argv.end(), big.begin(), big.end());
  agent_driver a;
  a.send_raw(raw_exec("/bin/sh", argv));
  CAF_REQUIRE(a.run_to_end(30000));
  CAF_CHECK(a.errors.empty());
  CAF_CHECK_EQUAL(a.data[1], "15000\n" + big.back() + "\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}

CAF_TEST(an env of 1.5 MB runs) {
  auto env = hundreds("BIG_", 15000);
  env.push_back("PATH=/usr/bin:/bin");
  agent_driver a;
  a.send_raw(raw_exec("/bin/sh", {"sh", "-c", "env | grep -c ^BIG_"}, env));
  CAF_REQUIRE(a.run_to_end(30000));
  CAF_CHECK(a.errors.empty());
  CAF_CHECK_EQUAL(a.data[1], "15000\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
}

CAF_TEST(a command too big for execve fails to start with 126) {
  // Over what Linux takes (6 MiB at most) but inside an exec frame.
  agent_driver a;
  auto argv = hundreds("a", 70000);
  argv.insert(argv.begin(), "true");
  a.send_raw(raw_exec("/bin/true", argv));
  CAF_REQUIRE(a.run_to_end(30000));
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("Argument list too long") != std::string::npos);
  CAF_CHECK_EQUAL(*a.exit_code, 126);
  // One argument over MAX_ARG_STRLEN (128 KiB) the same way.
  agent_driver b;
  b.send_raw(raw_exec("/bin/true", {"true", std::string(200 * 1024, 'l')}));
  CAF_REQUIRE(b.run_to_end(30000));
  CAF_REQUIRE_EQUAL(b.errors.size(), 1u);
  CAF_CHECK(b.errors[0].find("Argument list too long") != std::string::npos);
  CAF_CHECK_EQUAL(*b.exit_code, 126);
}
