// A watchdog for one command's process group, for when its owner dies
// without cleaning up (SIGKILL included). The guard is a tiny forked process
// that holds only the read end of a socket pair (used as a pipe) whose
// write end only the owner holds. When that read ends without a "done" byte,
// the owner is gone: the guard SIGKILLs the whole group and exits. A
// parent-death signal cannot do this: it reaches the direct child only, never
// its children.
//
// Shared by remex-agent and the local backend; no CAF, nothing that
// allocates in the guard after fork(), so it is safe in threaded processes.
#pragma once

#include <sys/types.h>

namespace remex::transport {

struct group_guard {
  pid_t pid = -1;  // the guard process: its starter reaps it
  int fd = -1;     // the write end: CLOEXEC, held only by the starter

  bool armed() const { return fd >= 0; }
};

// Forks a guard for process group pgid. The guard leaves this process's
// session (group signals meant for the owner do not reach it), blocks every
// signal but SIGKILL, and closes every other descriptor, so guards started
// later do not hold earlier guards' pipes and nothing else is kept open.
// Returns false with errno set when the pipe or the fork failed.
bool start_group_guard(pid_t pgid, group_guard& out);

// The command's group is over (or no longer ours to kill): the guard exits
// without killing. Non-blocking; the caller still reaps out.pid.
void release_group_guard(group_guard& g);

}  // namespace remex::transport
