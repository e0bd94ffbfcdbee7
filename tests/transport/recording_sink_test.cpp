// Recording what passes through a channel: the agent link (every frame, both
// directions) and a plain channel (as the frames an agent would have sent),
// read back with the protocol's reader.
#define CAF_SUITE recording_sink
#include "transport/recording_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "caf/test/unit_test.hpp"
#include "tests/transport/recorder.hpp"
#include "transport/agent_channel.hpp"
#include "transport/local/local_provider.hpp"
#include "transport/shell_command.hpp"

using namespace remex;
using protocol::frame_dir;
using protocol::frame_type;
using protocol::record_type;

namespace {

struct fixture {
  std::shared_ptr<transport::session_provider> p =
      transport::make_local_provider();
  std::string path = "/tmp/remex-recording-test-" + std::to_string(::getpid());

  ~fixture() { ::unlink(path.c_str()); }

  static transport::command sh(const std::string& script) {
    transport::command c;
    c.path = "/bin/sh";
    c.argv = {"sh", "-c", script};
    return c;
  }

  std::vector<protocol::record> read_back(bool& complete) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    protocol::recording_reader rd;
    rd.feed(ss.str());
    std::vector<protocol::record> out;
    protocol::record r;
    while (rd.next(r) == protocol::recording_reader::status::record)
      out.push_back(r);
    complete = rd.error_message().empty() && rd.buffered() == 0;
    return out;
  }

  // Concatenated data of stream s in direction dir, in record order.
  static std::string data_of(const std::vector<protocol::record>& recs,
                             frame_dir dir, std::uint32_t s) {
    std::string out;
    for (auto& r : recs)
      if (r.type == record_type::frame && r.frame.dir == dir &&
          r.frame.f.t == frame_type::data && r.frame.f.s == s)
        out += r.frame.f.d;
    return out;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(recording_sink_tests, fixture)

#ifdef REMEX_AGENT_PATH
CAF_TEST(the agent link is recorded frame by frame) {
  std::string err;
  transport::recording_context ctx;
  ctx.backend_type = "agent";
  ctx.agent_path = REMEX_AGENT_PATH;
  auto sink = transport::recording_sink::create(path, ctx, err);
  CAF_REQUIRE(sink != nullptr);
  protocol::agent_config cfg;
  cfg.env_keep = {"PATH"};
  auto cmd = sh("cat; printf err >&2; exit 3");
  auto r = std::make_shared<test::recorder>();
  r->attach(transport::start_agent_exec(
      *p, transport::shell_quote(REMEX_AGENT_PATH), cfg, cmd, r, sink));
  r->current()->write(0, "to stdin");
  r->current()->close_stream(0);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->status.exit_code(), 3);
  // Written and closed before on_exit: no waiting for the file.
  struct stat st {};
  CAF_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  bool complete = false;
  auto recs = read_back(complete);
  CAF_CHECK(complete);
  CAF_REQUIRE(recs.size() >= 8u);
  CAF_CHECK(recs[0].type == record_type::header);
  CAF_CHECK_EQUAL(recs[0].header.backend_type, "agent");
  CAF_CHECK_EQUAL(recs[0].header.local_pid, ::getpid());
  CAF_CHECK(recs[1].type == record_type::cmd_start);
  CAF_CHECK_EQUAL(recs[1].cmd_start.exec.argv, cmd.argv);
  // config, then exec, as sent.
  CAF_CHECK(recs[2].frame.dir == frame_dir::sent);
  CAF_CHECK(recs[2].frame.f.t == frame_type::config);
  CAF_CHECK(recs[2].frame.f.cfg == cfg);
  CAF_CHECK(recs[3].frame.f.t == frame_type::exec);
  CAF_CHECK_EQUAL(data_of(recs, frame_dir::sent, 0), "to stdin");
  CAF_CHECK_EQUAL(data_of(recs, frame_dir::received, 1), "to stdin");
  CAF_CHECK_EQUAL(data_of(recs, frame_dir::received, 2), "err");
  auto n = recs.size();
  CAF_CHECK(recs[n - 3].frame.f.t == frame_type::exit);
  CAF_CHECK_EQUAL(recs[n - 3].frame.f.c, 3);
  CAF_CHECK(recs[n - 2].type == record_type::cmd_end);
  CAF_CHECK_EQUAL(recs[n - 2].cmd_end.exit_code, 3);
  CAF_CHECK(recs[n - 1].type == record_type::footer);
  CAF_CHECK_EQUAL(recs[n - 1].footer.command_count, 1u);
}
#endif

CAF_TEST(a plain channel is recorded as agent frames) {
  std::string err;
  transport::recording_context ctx;
  ctx.backend_type = "ssh";
  auto sink = transport::recording_sink::create(path, ctx, err);
  CAF_REQUIRE(sink != nullptr);
  auto cmd = sh("cat; exit 4");
  auto r = std::make_shared<test::recorder>();
  r->attach(transport::open_recorded_plain(
      sink, {cmd.path, cmd.argv, cmd.env, cmd.cwd, cmd.fds}, r,
      [&](std::shared_ptr<transport::channel_listener> l) {
        return transport::open_sh_script(*p, transport::ssh_command_script(cmd),
                                         std::move(l));
      }));
  // More than one wire frame holds: recorded as several data frames.
  std::string data;
  for (int i = 0; i < 2500000; ++i) data += static_cast<char>(i * 7 + i / 13);
  r->current()->write(0, data);
  r->current()->close_stream(0);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->status.exit_code(), 4);
  CAF_CHECK(r->stream(1) == data);
  bool complete = false;
  auto recs = read_back(complete);
  CAF_CHECK(complete);
  CAF_CHECK(data_of(recs, frame_dir::sent, 0) == data);
  CAF_CHECK(data_of(recs, frame_dir::received, 1) == data);
  bool sent_eof = false;
  for (auto& rec : recs)
    if (rec.type == record_type::frame)
      sent_eof |= rec.frame.dir == frame_dir::sent &&
                  rec.frame.f.t == frame_type::eof && rec.frame.f.s == 0;
  CAF_CHECK(sent_eof);
  auto n = recs.size();
  CAF_REQUIRE(n >= 3u);
  CAF_CHECK(recs[n - 3].frame.f.t == frame_type::exit);
  CAF_CHECK_EQUAL(recs[n - 3].frame.f.c, 4);
  CAF_CHECK_EQUAL(recs[n - 2].cmd_end.exit_code, 4);
}

CAF_TEST(a failing recording never fails the command) {
  std::string err;
  // /dev/full takes the open and fails every write with ENOSPC.
  auto sink = transport::recording_sink::create("/dev/full", {}, err);
  if (!sink) {
    CAF_MESSAGE("no /dev/full here: " << err);
    return;
  }
  auto cmd = sh("head -c 3000000 /dev/zero; exit 2");
  auto r = std::make_shared<test::recorder>();
  r->attach(transport::open_recorded_plain(
      sink, {cmd.path, cmd.argv, cmd.env, cmd.cwd, cmd.fds}, r,
      [&](std::shared_ptr<transport::channel_listener> l) {
        return transport::open_sh_script(*p, transport::ssh_command_script(cmd),
                                         std::move(l));
      }));
  r->current()->close_stream(0);
  CAF_REQUIRE(r->wait_exit());
  CAF_CHECK_EQUAL(r->status.exit_code(), 2);
  CAF_CHECK_EQUAL(r->stream(1).size(), 3000000u);
  std::lock_guard<std::mutex> g{r->mtx};
  // Said once.
  auto first = r->logs.find("recording to /dev/full stopped");
  CAF_CHECK(first != std::string::npos);
  CAF_CHECK(r->logs.find("recording to", first + 1) == std::string::npos);
}

CAF_TEST(an unwritable place is refused at once) {
  std::string err;
  auto sink =
      transport::recording_sink::create("/nonexistent/dir/rec", {}, err);
  CAF_CHECK(sink == nullptr);
  CAF_CHECK(err.find("/nonexistent/dir/rec") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
