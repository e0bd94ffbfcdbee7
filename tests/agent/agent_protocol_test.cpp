// What a client written from agentproto.md alone may send: frames in any
// order the spec allows (and some it does not), zero values written or left
// out, unknown keys and types. The agent follows the spec and ends a session
// with an `error` frame only for input that is no frame at all.
#define CAF_SUITE agent_protocol
#include <cbor.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex;
using remex::test::agent_driver;

namespace {

using remex::test::raw;

protocol::frame config_frame(std::vector<std::string> keep,
                             std::vector<std::string> remove = {}) {
  protocol::frame f;
  f.t = protocol::frame_type::config;
  f.cfg = protocol::agent_config{std::move(keep), std::move(remove)};
  return f;
}

}  // namespace

CAF_TEST(stdin data and eof sent before the exec reach the command) {
  agent_driver a;
  a.send(protocol::make_data(0, "early "));
  a.send(protocol::make_data(0, "bytes"));
  a.send(protocol::make_eof(0));
  a.send_exec("cat", {"cat"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "early bytes");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
  CAF_CHECK(a.errors.empty());
}

CAF_TEST(more than a window of data before the exec is an error) {
  agent_driver a;
  std::string chunk(256 * 1024, 'x');
  for (int i = 0; i < 5; ++i) a.send(protocol::make_data(0, chunk));
  a.send_exec("cat", {"cat"});
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(!a.exit_code.has_value());
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

CAF_TEST(an exec without x fails like an empty command with an exit) {
  agent_driver a;
  protocol::frame ex;
  ex.t = protocol::frame_type::exec;
  a.send(ex);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.errors.size(), 1u);
  CAF_CHECK_EQUAL(*a.exit_code, 127);
  CAF_CHECK(a.order.back() == protocol::frame_type::exit);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CAF_TEST(a later config replaces an earlier one) {
  agent_driver a({{"PATH=/usr/bin:/bin", "ONE=1", "TWO=2"}});
  a.send(config_frame({"ONE", "PATH"}));
  a.send(config_frame({"TWO", "PATH"}));
  a.send_exec("env", {"env"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK(a.data[1].find("TWO=2") != std::string::npos);
  CAF_CHECK(a.data[1].find("ONE=1") == std::string::npos);
}

CAF_TEST(a config without cfg is the empty config) {
  agent_driver a({{"PATH=/usr/bin:/bin", "ONE=1", "TWO=2"}});
  a.send(config_frame({"ONE", "PATH"}));
  protocol::frame empty;
  empty.t = protocol::frame_type::config;
  a.send(empty);
  a.send_exec("env", {"env"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK(a.data[1].find("ONE=1") != std::string::npos);
  CAF_CHECK(a.data[1].find("TWO=2") != std::string::npos);
}

CAF_TEST(null fields unknown keys and frame types beyond 255 are accepted) {
  agent_driver a;
  // {"t": 300, "zz": 1}: an unknown type from a newer peer
  a.send_raw(raw{}.map(2).text("t").uint(300).text("zz").uint(1).out);
  // {"t": 8, "cfg": null}
  a.send_raw(raw{}.map(2).text("t").uint(8).text("cfg").null().out);
  // {"t": 1, "x": {"path": "echo", "argv": ["echo", "ok"], "env": null,
  //  "cwd": null, "fds": null, "future": {"k": [1]}}, "s": null}
  raw ex;
  ex.map(3).text("t").uint(1).text("x").map(6);
  ex.text("path").text("echo");
  ex.text("argv").array(2).text("echo").text("ok");
  ex.text("env").null().text("cwd").null().text("fds").null();
  ex.text("future").map(1).text("k").array(1).uint(1);
  ex.text("s").null();
  a.send_raw(ex.out);
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "ok\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
  CAF_CHECK(a.errors.empty());
  CAF_REQUIRE_EQUAL(a.logs.size(), 1u);
  CAF_CHECK(a.logs[0].msg.find("300") != std::string::npos);
}

CAF_TEST(a signal before exec is logged and ignored) {
  agent_driver a;
  a.send(protocol::make_signal(SIGTERM));
  a.send_exec("echo", {"echo", "alive"});
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "alive\n");
  CAF_CHECK_EQUAL(a.logs.size(), 1u);
}

CAF_TEST(input that ends inside a frame is an error) {
  agent_driver a;
  auto bytes = protocol::encode(protocol::make_data(0, "partial"));
  a.send_raw(bytes.substr(0, bytes.size() - 3));
  a.close_input();
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("ended inside a frame") != std::string::npos);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

CAF_TEST(stdin closing between frames ends a file session cleanly) {
  agent_driver a;
  a.send(config_frame({}));
  a.close_input();
  a.pump_until([&] { return a.output_closed(); });
  CAF_CHECK(a.errors.empty());
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CAF_TEST(malformed input during a run exits 2 like before a run) {
  agent_driver a;
  a.send_exec("sleep", {"sleep", "100"});
  a.pump_until([] { return false; }, 100);
  a.send_raw("\x83\x01");  // an array, not a map
  a.pump_until([&] { return a.output_closed(); });
  CAF_CHECK_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(!a.exit_code.has_value());
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

CAF_TEST(an agent told to stop before exec exits as a dropped link) {
  agent_driver a;
  a.send(config_frame({}));
  a.pump_until([] { return false; }, 100);
  ::kill(a.pid(), SIGTERM);
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);
}

CAF_TEST(an extra fd listed twice is refused with an exit) {
  agent_driver a;
  a.send_exec("true", {"true"}, {3, 3});
  CAF_REQUIRE(a.run_to_end());
  CAF_REQUIRE_EQUAL(a.errors.size(), 1u);
  CAF_CHECK(a.errors[0].find("twice") != std::string::npos);
  CAF_CHECK_EQUAL(*a.exit_code, 127);
}
