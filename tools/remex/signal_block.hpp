// Signals the CLI takes on a thread of its own (sigwait) instead of dying.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace remex::cli {

// Blocks sigs in every thread (call before any thread starts) so that one
// thread can take them with sigwait, and returns that set. A signal this
// process inherited as ignored (nohup, `trap '' INT`) stays ignored and is
// left out, as ssh leaves it: a blocked signal would be queued for sigwait
// even though its disposition is SIG_IGN.
inline sigset_t block_for_sigwait(std::initializer_list<int> sigs) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : sigs) {
    struct sigaction old {};
    if (sigaction(s, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaddset(&set, s);
  }
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace remex::cli
