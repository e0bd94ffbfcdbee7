// remex-bench-agent [runs] [bytes]: how much the agent adds to starting a
// command and to moving its stdout, measured against the same work without
// it in the same run.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

using namespace remex;
using clock_type = std::chrono::steady_clock;

namespace {

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0)
      .count();
}

// Starts argv with stdin/stdout on fresh pipes; returns pid.
pid_t spawn(const std::vector<std::string>& args, int& to_child,
            int& from_child) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) std::abort();
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  to_child = in[1];
  from_child = out[0];
  return pid;
}

std::string exec_request(std::vector<std::string> argv) {
  protocol::frame f;
  f.t = protocol::frame_type::exec;
  protocol::exec_msg x;
  x.path = argv[0];
  x.argv = std::move(argv);
  f.x = std::move(x);
  std::string out = protocol::encode(f);
  protocol::encode(protocol::make_eof(0), out);
  return out;
}

// Runs the agent for argv; returns stdout payload bytes; exit code in code.
std::size_t run_agent(const std::vector<std::string>& argv, int& code) {
  int to, from;
  pid_t pid = spawn({REMEX_AGENT_PATH}, to, from);
  auto req = exec_request(argv);
  if (::write(to, req.data(), req.size()) != static_cast<ssize_t>(req.size()))
    std::abort();
  protocol::frame_decoder dec;
  std::vector<char> buf(1 << 20);
  std::size_t bytes = 0;
  code = -1;
  for (;;) {
    auto n = ::read(from, buf.data(), buf.size());
    if (n <= 0) break;
    dec.feed(buf.data(), static_cast<std::size_t>(n));
    protocol::frame f;
    while (dec.next(f) == protocol::frame_decoder::status::frame) {
      if (f.t == protocol::frame_type::data && f.s == 1)
        bytes += f.d.size();
      else if (f.t == protocol::frame_type::exit)
        code = static_cast<int>(f.c);
    }
  }
  ::close(to);
  ::close(from);
  ::waitpid(pid, nullptr, 0);
  return bytes;
}

// Runs argv directly; returns stdout bytes.
std::size_t run_direct(const std::vector<std::string>& argv) {
  int to, from;
  pid_t pid = spawn(argv, to, from);
  ::close(to);
  std::vector<char> buf(1 << 20);
  std::size_t bytes = 0;
  for (;;) {
    auto n = ::read(from, buf.data(), buf.size());
    if (n <= 0) break;
    bytes += static_cast<std::size_t>(n);
  }
  ::close(from);
  ::waitpid(pid, nullptr, 0);
  return bytes;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * (v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  std::size_t total =
      argc > 2 ? std::strtoull(argv[2], nullptr, 10) : (std::size_t{1} << 30);
  std::vector<double> agent_ms, direct_ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clock_type::now();
    int code;
    run_agent({"true"}, code);
    agent_ms.push_back(ms_since(t0));
    if (code != 0) {
      std::fprintf(stderr, "agent run of true exited %d\n", code);
      return 1;
    }
    t0 = clock_type::now();
    run_direct({"true"});
    direct_ms.push_back(ms_since(t0));
  }
  std::printf("start-to-exit of `true` (%d runs, ms)    median    p90\n", runs);
  std::printf("  fork/exec true over pipes            %7.3f %7.3f\n",
              median(direct_ms), percentile(direct_ms, 0.9));
  std::printf("  remex-agent exec true                %7.3f %7.3f\n",
              median(agent_ms), percentile(agent_ms, 0.9));

  auto count = std::to_string(total);
  auto mb = static_cast<double>(total) / 1e6;
  std::printf("stdout throughput, head -c %s /dev/zero (MB/s)\n",
              count.c_str());
  auto t0 = clock_type::now();
  auto got = run_direct({"head", "-c", count, "/dev/zero"});
  std::printf("  direct over a pipe                   %8.0f\n",
              mb / (ms_since(t0) / 1000));
  t0 = clock_type::now();
  auto got_cat =
      run_direct({"sh", "-c", "head -c " + count + " /dev/zero | cat"});
  std::printf("  through cat (one relay hop)          %8.0f\n",
              mb / (ms_since(t0) / 1000));
  t0 = clock_type::now();
  int code;
  auto got_agent = run_agent({"head", "-c", count, "/dev/zero"}, code);
  std::printf("  through remex-agent (framed+decoded) %8.0f\n",
              mb / (ms_since(t0) / 1000));
  if (got != total || got_cat != total || got_agent != total || code != 0) {
    std::fprintf(stderr, "byte counts differ: %zu %zu %zu (exit %d)\n", got,
                 got_cat, got_agent, code);
    return 1;
  }
  return 0;
}
