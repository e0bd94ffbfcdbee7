#include "transport/ssh/ssh_signals.hpp"

#include <csignal>
#include <cstring>

namespace remex::transport {

namespace {

struct entry {
  const char* name;
  int signo;
};

// The RFC 4254 list plus the common ones sshd reports from strsignal-style
// tables (OpenSSH maps any other signal to "SIG@openssh.com").
constexpr entry table[] = {
    {"ABRT", SIGABRT},     {"ALRM", SIGALRM}, {"FPE", SIGFPE},
    {"HUP", SIGHUP},       {"ILL", SIGILL},   {"INT", SIGINT},
    {"KILL", SIGKILL},     {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT},
    {"SEGV", SIGSEGV},     {"TERM", SIGTERM}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},     {"BUS", SIGBUS},   {"TRAP", SIGTRAP},
    {"SYS", SIGSYS},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"WINCH", SIGWINCH},   {"URG", SIGURG},   {"PROF", SIGPROF},
    {"VTALRM", SIGVTALRM},
};

}  // namespace

int signal_number(const char* name) {
  if (name == nullptr) return 0;
  if (std::strncmp(name, "SIG", 3) == 0) name += 3;
  for (auto& e : table)
    if (std::strcmp(e.name, name) == 0) return e.signo;
  return 0;
}

const char* signal_name(int signo) {
  for (auto& e : table)
    if (e.signo == signo) return e.name;
  return nullptr;
}

}  // namespace remex::transport
