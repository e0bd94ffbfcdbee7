// The persistent agent (protocol/PERSISTENT.md) over the libssh backend and
// a real sshd: many megabytes through per-execution credit, where every
// grant must reach the agent and every byte the agent sends must reach the
// listener without waiting for some unrelated event (a keepalive) to wake
// the connection.
#define CAF_SUITE ssh_persistent
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "caf/test/unit_test.hpp"
#include "tests/ssh/sshd_fixture.hpp"
#include "transport/agent_host.hpp"
#include "transport/shell_command.hpp"
#include "transport/ssh/ssh_provider.hpp"

using namespace remex;
using namespace std::chrono_literals;
using clk = std::chrono::steady_clock;

#ifdef REMEX_AGENT_PATH

namespace {

// Counts what arrives instead of keeping it and remembers the longest
// silence between two deliveries. Consumes on a thread of its own, as the
// actors do (the bytes go to a mailbox, credit comes back later from
// another thread), not inside on_data on the transport's I/O thread.
class counter : public transport::channel_listener {
 public:
  counter() : consumer_([this] { consume(); }) {}
  ~counter() override {
    {
      std::lock_guard<std::mutex> g{mtx_};
      quit_ = true;
    }
    cv_.notify_all();
    consumer_.join();
  }
  void on_open(std::shared_ptr<transport::exec_channel> ch) override {
    std::lock_guard<std::mutex> g{mtx_};
    ch_ = std::move(ch);
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    std::lock_guard<std::mutex> g{mtx_};
    auto now = clk::now();
    if (bytes_[1] + bytes_[2] > 0)
      longest_gap_ = std::max(longest_gap_, now - last_);
    last_ = now;
    bytes_[s == 2 ? 2 : 1] += bytes.size();
    owed_.emplace_back(s, bytes.size());
    cv_.notify_all();
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  void on_exit(transport::exit_status st) override {
    std::lock_guard<std::mutex> g{mtx_};
    status_ = std::move(st);
    exited_ = true;
    ch_.reset();  // breaks the listener <-> channel cycle
    cv_.notify_all();
  }

  bool wait_exit(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> g{mtx_};
    return cv_.wait_for(g, timeout, [this] { return exited_; });
  }
  std::size_t bytes(int s) {
    std::lock_guard<std::mutex> g{mtx_};
    return bytes_[s];
  }
  clk::duration longest_gap() {
    std::lock_guard<std::mutex> g{mtx_};
    return longest_gap_;
  }
  transport::exit_status status() {
    std::lock_guard<std::mutex> g{mtx_};
    return status_;
  }

 private:
  void consume() {
    std::unique_lock<std::mutex> g{mtx_};
    for (;;) {
      cv_.wait(g, [this] { return quit_ || exited_ || !owed_.empty(); });
      if (quit_ || exited_) return;
      auto [s, n] = owed_.front();
      owed_.pop_front();
      auto ch = ch_;
      g.unlock();
      if (ch) ch->consumed(s, n);
      g.lock();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::shared_ptr<transport::exec_channel> ch_;
  std::deque<std::pair<std::uint32_t, std::size_t>> owed_;
  std::size_t bytes_[3] = {0, 0, 0};
  clk::time_point last_;
  clk::duration longest_gap_{};
  bool exited_ = false;
  bool quit_ = false;
  transport::exit_status status_;
  std::thread consumer_;
};

struct fixture {
  test::sshd_fixture sshd;
  std::shared_ptr<transport::ssh_session_provider> provider;
  std::shared_ptr<transport::agent_host> host;

  // The smallest window the agent takes: a grant goes out every 32 KiB, so
  // a lost wake-up shows within a few megabytes. Keepalives an hour apart:
  // they would wake a stalled connection and hide the loss.
  fixture() {
    config::ssh_options o;
    o.ssh_config = sshd["FIXTURE_SSH_CONFIG"];
    o.keepalive_interval_s = 3600;
    provider = transport::make_ssh_provider("fixture", o);
    transport::agent_link_options opt;
    opt.window = 64 * 1024;
    host = transport::agent_host::make(
        *provider, "exec " + transport::shell_quote(REMEX_AGENT_PATH), opt);
  }
  ~fixture() {
    host->close();
    host.reset();
  }

  std::shared_ptr<counter> run(const std::string& script) {
    transport::command c;
    c.path = "/bin/sh";
    c.argv = {"sh", "-c", script};
    auto r = std::make_shared<counter>();
    host->open({}, c, r);
    return r;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(ssh_persistent_tests, fixture)

CAF_TEST(hundreds of megabytes through small credit windows never stall) {
  constexpr std::size_t total = 256u << 20;
  auto r = run("head -c " + std::to_string(total) + " /dev/zero");
  // At the slowest this box has shown (~20 MB/s under load) this takes
  // about 15 s; a lost grant or wake-up stalls it for good.
  CAF_REQUIRE(r->wait_exit(120s));
  CAF_CHECK(host->multi());
  CAF_CHECK_EQUAL(r->status().exit_code(), 0);
  CAF_CHECK_EQUAL(r->bytes(1), total);
  auto gap =
      std::chrono::duration_cast<std::chrono::milliseconds>(r->longest_gap());
  CAF_MESSAGE("longest silence between deliveries: " << gap.count() << " ms");
  CAF_CHECK_LESS(gap, 5000ms);
}

CAF_TEST(several executions share the agent and all finish) {
  constexpr std::size_t each = 32u << 20;
  std::vector<std::shared_ptr<counter>> rs;
  for (int i = 0; i < 4; ++i)
    rs.push_back(run("head -c " + std::to_string(each) +
                     " /dev/zero; "
                     "head -c 100000 /dev/zero >&2"));
  for (auto& r : rs) {
    CAF_REQUIRE(r->wait_exit(120s));
    CAF_CHECK_EQUAL(r->status().exit_code(), 0);
    CAF_CHECK_EQUAL(r->bytes(1), each);
    CAF_CHECK_EQUAL(r->bytes(2), 100000u);
  }
  CAF_CHECK_EQUAL(host->agents_started(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

#endif  // REMEX_AGENT_PATH
