// Starting the command: PATH lookup in the command's own environment, a new
// process group, pipes for 0/1/2, a socketpair for every extra fd, and a
// guard that kills the group should the agent die without doing so.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/frame.hpp"
#include "tools/remex-agent/agent_guard.hpp"
#include "transport/group_guard.hpp"

namespace remex::agent {

struct spawn_spec {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // final "K=V" list
  std::string cwd;
  std::vector<std::uint32_t> fds;
};

struct child_process {
  pid_t pid = -1;  // also its process group id
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  std::map<std::uint32_t, int> extra;  // fd number → our socket end
  // Armed from before the command runs until its group is gone; the agent
  // releases and reaps it (the guard is its child). Not armed when the
  // agent-wide guard watches the group (spawn_mode::shared_guard).
  transport::group_guard guard;
  // spawn_mode::confirm_later: readable once exec is decided (EOF: the
  // command runs; bytes: it failed, see exec_outcome). -1 once decided.
  int exec_status = -1;
  std::string program;  // as resolved, for the failure's message
  std::string cwd;
};

// How a command starts. The seed's way: a guard forked for its group, and
// the call returns once exec succeeded or failed. A persistent agent's:
// the agent-wide guard watches the group, and the agent goes on with its
// other executions while the child execs (confirm_later).
struct spawn_mode {
  const agent_guard* shared_guard = nullptr;
  bool confirm_later = false;
};

struct spawn_failure {
  int exit_code = 0;  // 127 not found / bad cwd, 126 not executable
  std::string message;
};

// On success fills child and returns true; otherwise fills failure.
bool spawn_child(const spawn_spec& spec, child_process& child,
                 spawn_failure& failure, const spawn_mode& mode = {});

// confirm_later: what child.exec_status says now. pending: nothing yet
// (EAGAIN); started: exec succeeded; failed: failure filled (the child
// exits 127 by itself, the reaper collects it). exec_status is closed once
// it is not pending.
enum class exec_outcome { pending, started, failed };
exec_outcome read_exec_status(child_process& child, spawn_failure& failure);

// An exec message made into a started command: the program (argv[0] when
// no path is given), the environment under cfg's policy, the extra fds
// checked (3..65535, each once). Fills failure like spawn_child.
bool start_command(const protocol::agent_config& cfg,
                   const protocol::exec_msg& x, child_process& child,
                   spawn_failure& failure, const spawn_mode& mode = {});

// The command's group is gone: its guard exits quietly and is reaped (it
// exits as soon as it is told, so the wait is short).
void release_guard(transport::group_guard& guard);

}  // namespace remex::agent
