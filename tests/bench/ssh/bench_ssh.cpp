// Reading 1 GB of stdout: the libssh backend vs the ssh client, against the
// same fixture sshd in the same run. Prints MB/s, the ratio (median of runs)
// and the cipher each side negotiated.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "tests/ssh/sshd_fixture.hpp"
#include "transport/ssh/ssh_provider.hpp"

using namespace remex;
using namespace remex::transport;
using clk = std::chrono::steady_clock;

namespace {

constexpr std::size_t total = 1000000000;
const std::string bench_command = "head -c 1000000000 /dev/zero";

// Counts bytes and hands credit straight back, like a fast consumer.
class counter : public channel_listener {
 public:
  void on_data(std::uint32_t s, std::string b) override {
    bytes += b.size();
    ++calls;
    std::shared_ptr<exec_channel> c;
    {
      std::lock_guard<std::mutex> g{m};
      c = ch;
    }
    if (c) c->consumed(s, b.size());
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  void on_exit(exit_status st) override {
    std::lock_guard<std::mutex> g{m};
    status = st;
    done = true;
    ch.reset();
    cv.notify_all();
  }
  void on_open(std::shared_ptr<exec_channel> c) override {
    std::lock_guard<std::mutex> g{m};
    ch = std::move(c);
  }
  void wait() {
    std::unique_lock<std::mutex> g{m};
    cv.wait(g, [this] { return done; });
  }
  std::size_t bytes = 0;  // I/O thread only until done
  std::size_t calls = 0;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  exit_status status;
  std::shared_ptr<exec_channel> ch;
};

double seconds_since(clk::time_point t0) {
  return std::chrono::duration<double>(clk::now() - t0).count();
}

double run_libssh(const test::sshd_fixture& f, const std::string& ciphers,
                  std::string& cipher) {
  config::ssh_options o;
  o.ssh_config = f["FIXTURE_SSH_CONFIG"];
  o.ciphers = ciphers;
  auto p = make_ssh_provider("fixture", o);
  auto c = std::make_shared<counter>();
  auto t0 = clk::now();
  p->open_exec(bench_command, {}, c);
  c->wait();
  double s = seconds_since(t0);
  if (c->bytes != total || c->status.exit_code() != 0) {
    std::cerr << "libssh run failed: " << c->bytes << " bytes, "
              << c->status.message << "\n";
    std::exit(1);
  }
  if (std::getenv("BENCH_VERBOSE"))
    std::cerr << "avg chunk " << c->bytes / c->calls << "\n";
  auto info = p->link_info();
  cipher = info.cipher_in;
  return total / s / 1e6;
}

double run_ssh(const test::sshd_fixture& f, const std::string& extra,
               std::string& cipher) {
  auto log = f.dir + "/ssh-v.log";
  auto t0 = clk::now();
  int rc = test::run_shell("ssh -F " + f["FIXTURE_SSH_CONFIG"] +
                           " -o LogLevel=DEBUG1 " + extra + " fixture '" +
                           bench_command + "' 2>" + log + " >/dev/null");
  double s = seconds_since(t0);
  // Straight to /dev/null: a counting pipe would tax the ssh side.
  if (rc != 0) {
    std::cerr << "ssh run failed: rc " << rc << "\n";
    std::exit(1);
  }
  auto v = test::read_file(log);
  auto at = v.find("server->client cipher: ");
  if (at != std::string::npos) {
    at += 23;
    cipher = v.substr(at, v.find_first_of(" \n", at) - at);
  }
  return total / s / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 3;
  test::sshd_fixture f;
  std::cout << "remex-bench-ssh: " << bench_command << ", median of " << runs
            << " runs, fixture sshd on 127.0.0.1:" << f["FIXTURE_PORT"] << "\n";
  struct variant {
    std::string name;
    bool libssh;
    std::string ciphers;  // libssh preference list, or ssh(1) options
    std::vector<double> rates;
    std::string cipher;
  };
  std::vector<variant> vs = {
      {"ssh client (defaults)", false, "", {}, {}},
      {"ssh client aes128-gcm", false, "-c aes128-gcm@openssh.com", {}, {}},
      {"libssh backend (defaults)", true, "", {}, {}},
      {"libssh backend chacha20",
       true,
       "chacha20-poly1305@openssh.com",
       {},
       {}},
  };
  for (int r = 0; r < runs; ++r)
    for (auto& v : vs)
      v.rates.push_back(v.libssh ? run_libssh(f, v.ciphers, v.cipher)
                                 : run_ssh(f, v.ciphers, v.cipher));
  double base = median(vs[0].rates);
  char line[256];
  for (auto& v : vs) {
    double m = median(v.rates);
    std::snprintf(line, sizeof line,
                  "%-27s %6.0f MB/s  ratio vs ssh defaults %.2f  cipher %s\n",
                  v.name.c_str(), m, m / base, v.cipher.c_str());
    std::cout << line;
  }
  double best_lib = median(vs[2].rates);
  double best_ssh = std::max(base, median(vs[1].rates));
  std::snprintf(line, sizeof line,
                "ratio libssh backend (defaults) / best ssh client: %.2f\n",
                best_lib / best_ssh);
  std::cout << line;
  return 0;
}
