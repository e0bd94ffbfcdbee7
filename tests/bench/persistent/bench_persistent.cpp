// remex-bench-persistent [runs] [concurrent]: the time from open() to the
// exit status of `true`, on a warm persistent agent (transport/agent_host)
// and with a fresh agent per execution (start_agent_exec, the seed's way),
// both over the local backend in this process, next to the floor: a plain
// fork, exec and wait of `true` by this process, in the same run (on a
// loaded machine that floor moves a lot); then `concurrent` `sleep 1` at
// once on one persistent agent (wall time).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "transport/agent_channel.hpp"
#include "transport/agent_host.hpp"
#include "transport/local/local_provider.hpp"
#include "transport/shell_command.hpp"

using namespace remex;
using clock_type = std::chrono::steady_clock;

namespace {

// Counts exits; the bench waits for a number of them.
class latch_listener : public transport::channel_listener {
 public:
  struct shared {
    std::mutex m;
    std::condition_variable cv;
    int exits = 0;
    int failures = 0;
  };
  explicit latch_listener(shared& s) : s_(s) {}
  void on_data(std::uint32_t, std::string) override {}
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  void on_exit(transport::exit_status st) override {
    std::lock_guard<std::mutex> g{s_.m};
    ++s_.exits;
    if (st.exit_code() != 0) ++s_.failures;
    s_.cv.notify_all();
  }

 private:
  shared& s_;
};

void wait_exits(latch_listener::shared& s, int n) {
  std::unique_lock<std::mutex> g{s.m};
  s.cv.wait(g, [&] { return s.exits >= n; });
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * (v.size() - 1) + 0.5);
  return v[i];
}

transport::command cmd(std::vector<std::string> argv) {
  transport::command c;
  c.path = argv[0];
  c.argv = std::move(argv);
  return c;
}

template <class Open>
std::vector<double> measure(int runs, Open open, int& failures) {
  std::vector<double> ms;
  latch_listener::shared s;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clock_type::now();
    open(std::make_shared<latch_listener>(s));
    wait_exits(s, i + 1);
    ms.push_back(
        std::chrono::duration<double, std::milli>(clock_type::now() - t0)
            .count());
  }
  failures = s.failures;
  return ms;
}

void print(const char* what, const std::vector<double>& ms, int failures) {
  std::printf(
      "%-44s p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (%zu runs, %d "
      "failed)\n",
      what, percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0),
      ms.size(), failures);
}

// What no remote execution can beat: this process forks, execs and reaps
// the program itself.
void fork_exec_wait(const char* path) {
  char* argv[] = {const_cast<char*>(path), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(path, argv);
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 1000;
  int concurrent = argc > 2 ? std::atoi(argv[2]) : 1000;
  auto provider = transport::make_local_provider();
  auto agent = transport::shell_quote(REMEX_AGENT_PATH);
  transport::agent_link_options opt;
  opt.max_executions = static_cast<std::size_t>(std::max(concurrent, 1));
  auto host = transport::agent_host::make(*provider, "exec " + agent, opt);
  auto t_true = cmd({"/bin/true"});

  // Warm the agent up: it is started by the first open.
  {
    latch_listener::shared s;
    host->open({}, t_true, std::make_shared<latch_listener>(s));
    wait_exits(s, 1);
  }
  int failed = 0;
  auto warm = measure(
      runs, [&](auto l) { host->open({}, t_true, l); }, failed);
  print("exec true, warm persistent agent", warm, failed);
  {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      auto t0 = clock_type::now();
      fork_exec_wait("/bin/true");
      ms.push_back(
          std::chrono::duration<double, std::milli>(clock_type::now() - t0)
              .count());
    }
    print("floor: fork+exec+wait true in this process", ms, 0);
    std::printf("ratio p50 warm/floor: %.3f\n",
                percentile(warm, 0.5) / percentile(ms, 0.5));
  }
  auto fresh = measure(
      std::min(runs, 300),
      [&](auto l) {
        transport::start_agent_exec(*provider, agent, {}, t_true, l);
      },
      failed);
  print("exec true, fresh agent per exec (seed way)", fresh, failed);
  std::printf("ratio p50 warm/fresh: %.3f\n",
              percentile(warm, 0.5) / percentile(fresh, 0.5));

  if (concurrent > 0) {
    latch_listener::shared s;
    auto t0 = clock_type::now();
    auto sleep1 = cmd({"/bin/sleep", "1"});
    for (int i = 0; i < concurrent; ++i)
      host->open({}, sleep1, std::make_shared<latch_listener>(s));
    wait_exits(s, concurrent);
    std::printf(
        "%d x sleep 1 at once on one persistent agent: %.3f s wall, "
        "%d failed, agents started %zu\n",
        concurrent,
        std::chrono::duration<double>(clock_type::now() - t0).count(),
        s.failures, host->agents_started());
  }
  host->close();
  return 0;
}
