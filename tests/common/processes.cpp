#include "tests/common/processes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace remex::test {

namespace {

// Every numeric entry of /proc.
template <class F>
void for_each_pid(F&& f) {
  DIR* d = ::opendir("/proc");
  if (!d) return;
  while (auto* e = ::readdir(d)) {
    pid_t p = std::atoi(e->d_name);
    if (p > 0) f(p);
  }
  ::closedir(d);
}

// State, parent and process group from /proc/PID/stat; false when gone.
bool read_stat(pid_t pid, char& state, int& pgrp) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size())
    return false;
  int ppid = 0;
  return std::sscanf(line.c_str() + close_paren + 2, "%c %d %d", &state, &ppid,
                     &pgrp) == 3;
}

}  // namespace

bool process_alive(pid_t pid) {
  char state = 0;
  int pgrp = 0;
  return read_stat(pid, state, pgrp) && state != 'Z' && state != 'X';
}

std::vector<pid_t> live_group_members(pid_t pgid) {
  std::vector<pid_t> out;
  for_each_pid([&](pid_t p) {
    char state = 0;
    int pgrp = 0;
    if (read_stat(p, state, pgrp) && pgrp == pgid && state != 'Z' &&
        state != 'X')
      out.push_back(p);
  });
  return out;
}

std::vector<pid_t> processes_with_arg(const std::string& marker) {
  std::vector<pid_t> out;
  for_each_pid([&](pid_t p) {
    // read(2), not a stream: a process that exits while it is read gives
    // ESRCH, which a filebuf turns into an exception.
    std::string args;
    int fd = ::open(("/proc/" + std::to_string(p) + "/cmdline").c_str(),
                    O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
      args.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (args.find(marker) != std::string::npos && process_alive(p))
      out.push_back(p);
  });
  return out;
}

std::string unique_marker(const std::string& what) {
  static int counter = 0;
  auto t = std::chrono::steady_clock::now().time_since_epoch().count();
  return "remex-test-" + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++counter) + "-" + std::to_string(t);
}

bool wait_until(const std::function<bool()>& pred, int timeout_ms) {
  auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    ::usleep(10 * 1000);
  }
}

}  // namespace remex::test
