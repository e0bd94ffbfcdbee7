// What the tests see of other processes, read from /proc: whether a process
// or a process group is still alive, and which processes carry a marker in
// their argv. Shared by the agent and transport tests (compiled into both).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace remex::test {

// False for a process that is gone or a zombie.
bool process_alive(pid_t pid);
// The process group's members still alive (zombies do not count).
std::vector<pid_t> live_group_members(pid_t pgid);
// Live processes whose argv (any element) contains marker.
std::vector<pid_t> processes_with_arg(const std::string& marker);
// A string no other process's argv holds: what + this pid + a counter + time.
std::string unique_marker(const std::string& what);
// Polls pred every 10 ms until it holds (true) or timeout_ms passed (false).
bool wait_until(const std::function<bool()>& pred, int timeout_ms);

}  // namespace remex::test
