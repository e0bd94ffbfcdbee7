// One guard for every process group of a persistent agent (multi_mux), where
// the seed's loop forks one per command (transport/group_guard). The guard is
// a process forked once, at the start, that holds the read end of a
// SOCK_SEQPACKET pair: each command's child writes "watch my group" itself
// before it execs (so the agent need not hold it back until it has), and
// the agent writes "forget G" once G is gone. When the socket ends (the
// agent died, SIGKILL included), the guard SIGKILLs every group it still
// watches and exits. A message written before the agent died is read ahead
// of the end, so a group is never left unwatched however soon it dies.
#pragma once

#include <sys/types.h>

namespace remex::agent {

class agent_guard {
 public:
  agent_guard() = default;
  agent_guard(const agent_guard&) = delete;
  agent_guard& operator=(const agent_guard&) = delete;
  // Closes the socket: the guard kills what it still watches and exits.
  ~agent_guard();

  // Forks the guard; false (errno set) when the socket or fork failed.
  bool start();
  bool running() const { return fd_ >= 0; }

  // Blocking writes of one small message into a socket the guard always
  // drains. watch is also safe in a forked child (one send(2)).
  bool watch(pid_t pgid) const;
  void forget(pid_t pgid) const;

 private:
  bool say(char what, pid_t pgid) const;

  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace remex::agent
