#include "tools/remex-agent/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <set>

#include "tools/remex-agent/env_policy.hpp"
#include "tools/remex-agent/path_enum.hpp"

extern char** environ;

namespace remex::agent {

namespace {

// execvp's rules, but with the command's PATH rather than the agent's:
// the first executable wins; a match without permission is remembered.
bool resolve(const spawn_spec& spec, std::string& out, int& err) {
  if (spec.path.find('/') != std::string::npos) {
    out = spec.path;
    return true;
  }
  const char* path = env_lookup(spec.env, "PATH");
  bool denied = false;
  for (auto& dir :
       split_path(path ? path : "/usr/local/bin:/usr/bin:/bin", true)) {
    auto candidate = dir + "/" + spec.path;
    struct stat st;
    if (::stat(candidate.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (::access(candidate.c_str(), X_OK) == 0) {
      out = candidate;
      return true;
    }
    denied = true;
  }
  err = denied ? EACCES : ENOENT;
  return false;
}

struct child_error {
  int stage;  // 1 chdir, 2 exec, 3 telling the agent-wide guard
  int err;
};

[[noreturn]] void report_and_exit(int fd, int stage) {
  child_error e{stage, errno};
  auto rc = ::write(fd, &e, sizeof e);
  (void)rc;
  ::_exit(127);
}

void close_pair(int p[2]) {
  for (int i = 0; i < 2; ++i)
    if (p[i] >= 0) ::close(p[i]);
}

spawn_failure describe(const child_error& e, const std::string& program,
                       const std::string& cwd) {
  if (e.stage == 1)
    return {127, "cannot change to directory '" + cwd +
                     "': " + std::strerror(e.err)};
  if (e.stage == 3)
    return {127, std::string("the agent's process group guard is gone: ") +
                     std::strerror(e.err)};
  if (e.err == ENOENT) return {127, program + ": " + std::strerror(e.err)};
  return {126, program + ": " + std::strerror(e.err)};
}

}  // namespace

exec_outcome read_exec_status(child_process& child, spawn_failure& failure) {
  if (child.exec_status < 0) return exec_outcome::started;
  child_error e{0, 0};
  auto n = ::read(child.exec_status, &e, sizeof e);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return exec_outcome::pending;
  ::close(child.exec_status);
  child.exec_status = -1;
  if (n != static_cast<ssize_t>(sizeof e)) return exec_outcome::started;
  failure = describe(e, child.program, child.cwd);
  return exec_outcome::failed;
}

bool spawn_child(const spawn_spec& spec, child_process& child,
                 spawn_failure& failure, const spawn_mode& mode) {
  if (spec.path.empty()) {
    failure = {127, "exec: empty command path"};
    return false;
  }
  if (!spec.cwd.empty()) {
    struct stat st;
    const char* why = nullptr;
    if (::stat(spec.cwd.c_str(), &st) != 0)
      why = std::strerror(errno);
    else if (!S_ISDIR(st.st_mode))
      why = "Not a directory";
    if (why) {
      failure = {127, "cannot change to directory '" + spec.cwd + "': " + why};
      return false;
    }
  }
  std::string resolved;
  int err = 0;
  if (!resolve(spec, resolved, err)) {
    if (err == EACCES)
      failure = {126, spec.path + ": permission denied"};
    else
      failure = {127, spec.path + ": command not found"};
    return false;
  }
  // Our ends are CLOEXEC; the child's ends become 0/1/2/N by dup2.
  // `go` holds the child back until a guard of its own is in place; with
  // the agent-wide guard, the child tells it by itself.
  const agent_guard* shared = mode.shared_guard;
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err_p[2] = {-1, -1},
      status[2] = {-1, -1}, go[2] = {-1, -1};
  std::vector<std::array<int, 2>> socks(spec.fds.size(), {-1, -1});
  bool ok = ::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 &&
            ::pipe2(err_p, O_CLOEXEC) == 0 && ::pipe2(status, O_CLOEXEC) == 0 &&
            (shared || ::pipe2(go, O_CLOEXEC) == 0);
  for (auto& s : socks)
    ok = ok &&
         ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s.data()) == 0;
  if (!ok) {
    failure = {127,
               std::string("cannot create pipes: ") + std::strerror(errno)};
    for (auto* p : {in, out, err_p, status, go}) close_pair(p);
    for (auto& s : socks) close_pair(s.data());
    return false;
  }
  ::fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
  std::vector<char*> argv, envp;
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  if (argv.empty()) argv.push_back(const_cast<char*>(spec.path.c_str()));
  argv.push_back(nullptr);
  for (auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int max_target = 2;
  for (auto fd : spec.fds)
    max_target = std::max<int>(max_target, static_cast<int>(fd));

  pid_t agent = ::getpid();
  // Every signal is held across the fork: a signal for the new group that
  // comes before the child has reset the agent's handlers (the broker may
  // signal an execution whose exec is not confirmed yet) would otherwise
  // run the agent's handler in the child, and be lost to the command. The
  // child takes it once its dispositions are the defaults.
  sigset_t all, before;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &before);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (go[1] >= 0) ::close(go[1]);
    ::setpgid(0, 0);
    // Until the guard runs, the parent-death signal covers this process
    // (it has no children yet); the check closes the race with the fork.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != agent) ::_exit(127);
    // Caught signals reset on exec by themselves, but the agent's handlers
    // must not run here before it; ignored ones would stick (SIGPIPE is
    // ignored by the agent, others may come from its parent). The usual
    // suspects only: one syscall each counts at start-up.
    for (int s : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                  SIGALRM, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU})
      ::signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Nothing runs before a guard watches the group.
    if (shared) {
      if (!shared->watch(::getpid())) report_and_exit(status[1], 3);
    } else {
      // No byte means the agent is gone.
      char b = 0;
      ssize_t got;
      do got = ::read(go[0], &b, 1);
      while (got < 0 && errno == EINTR);
      if (got != 1) ::_exit(127);
    }
    // Lift every source above all targets first, so no dup2 clobbers a
    // source that is still needed.
    std::vector<std::pair<int, int>> moves = {
        {in[0], 0}, {out[1], 1}, {err_p[1], 2}};
    for (size_t i = 0; i < spec.fds.size(); ++i)
      moves.emplace_back(socks[i][1], static_cast<int>(spec.fds[i]));
    for (auto& m : moves) {
      m.first = ::fcntl(m.first, F_DUPFD_CLOEXEC, max_target + 1);
      if (m.first < 0) report_and_exit(status[1], 2);
    }
    for (auto& m : moves)
      if (::dup2(m.first, m.second) < 0) report_and_exit(status[1], 2);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0)
      report_and_exit(status[1], 1);
    ::execve(resolved.c_str(), argv.data(), envp.data());
    report_and_exit(status[1], 2);
  }
  auto fork_errno = errno;
  ::sigprocmask(SIG_SETMASK, &before, nullptr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err_p[1]);
  ::close(status[1]);
  if (go[0] >= 0) ::close(go[0]);
  for (auto& s : socks) ::close(s[1]);
  auto close_ours = [&] {
    for (int fd : {in[1], out[0], err_p[0], status[0], go[1]})
      if (fd >= 0) ::close(fd);
    for (auto& s : socks) ::close(s[0]);
  };
  if (pid < 0) {
    close_ours();
    failure = {127, std::string("cannot fork: ") + std::strerror(fork_errno)};
    return false;
  }
  // Also in the parent: no race between setpgid and a signal to the group.
  ::setpgid(pid, pid);
  // Started after the command's fork, so the command never holds the
  // guard's write end; the command waits for it on `go`.
  if (!shared) {
    if (!transport::start_group_guard(pid, child.guard)) {
      auto guard_errno = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      close_ours();
      failure = {127, std::string("cannot start the process group guard: ") +
                          std::strerror(guard_errno)};
      return false;
    }
    auto sent = ::write(go[1], "g", 1);
    (void)sent;  // a child that died already reports through `status`
    ::close(go[1]);
    go[1] = -1;
  }
  child.program = resolved;
  child.cwd = spec.cwd;
  auto hand_over = [&] {
    child.pid = pid;
    child.stdin_fd = in[1];
    child.stdout_fd = out[0];
    child.stderr_fd = err_p[0];
    for (size_t i = 0; i < spec.fds.size(); ++i)
      child.extra[spec.fds[i]] = socks[i][0];
    return true;
  };
  if (mode.confirm_later) {
    ::fcntl(status[0], F_SETFL, O_NONBLOCK);
    child.exec_status = status[0];
    return hand_over();
  }
  child_error e{0, 0};
  ssize_t n;
  do n = ::read(status[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof e)) {
    ::waitpid(pid, nullptr, 0);
    release_guard(child.guard);
    if (shared) shared->forget(pid);
    close_ours();
    failure = describe(e, resolved, spec.cwd);
    return false;
  }
  ::close(status[0]);
  return hand_over();
}

bool start_command(const protocol::agent_config& cfg,
                   const protocol::exec_msg& x, child_process& child,
                   spawn_failure& failure, const spawn_mode& mode) {
  spawn_spec spec;
  // Like a shell: without a separate path, argv[0] names the program.
  spec.path = x.path.empty() && !x.argv.empty() ? x.argv[0] : x.path;
  spec.argv = x.argv;
  spec.env = child_environment(environ, cfg, x.env);
  spec.cwd = x.cwd;
  spec.fds = x.fds;
  std::set<std::uint32_t> seen;
  for (auto fd : spec.fds) {
    if (fd < 3 || fd > 65535) {
      failure = {
          127, "exec: extra fd " + std::to_string(fd) + " is not in 3..65535"};
      return false;
    }
    if (!seen.insert(fd).second) {
      failure = {127,
                 "exec: extra fd " + std::to_string(fd) + " is listed twice"};
      return false;
    }
  }
  return spawn_child(spec, child, failure, mode);
}

void release_guard(transport::group_guard& guard) {
  if (!guard.armed()) return;
  transport::release_group_guard(guard);
  while (::waitpid(guard.pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  guard.pid = -1;
}

}  // namespace remex::agent
