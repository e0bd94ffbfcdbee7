#include "tools/remex/run_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <thread>

#include "actors/fd_bridge.hpp"
#include "actors/log.hpp"
#include "actors/types.hpp"
#include "tools/remex/broker_client.hpp"
#include "tools/remex/broker_watch.hpp"
#include "tools/remex/run_options.hpp"
#include "tools/remex/signal_block.hpp"
#include "tools/remex/signal_relay.hpp"
#include "transport/exec_channel.hpp"

namespace remex::cli {

namespace {

using namespace remex::actors;

// The signals remex run forwards to the remote process group.
sigset_t block_forwarded_signals() {
  return block_for_sigwait(
      {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2});
}

// Before the command runs (connecting, placing the agent) there is nobody to
// forward to: these end remex itself, as they end ssh while it connects.
bool ends_remex(int signo) {
  return signo == SIGINT || signo == SIGTERM || signo == SIGHUP ||
         signo == SIGQUIT;
}

[[noreturn]] void die_by(int signo) {
  std::fflush(stdout);
  std::signal(signo, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signo);
  pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  std::raise(signo);
  std::_Exit(128 + signo);
}

// Empty when the ssh config file can be read, else why not. libssh skips a
// file it cannot open without a word, and the host then fails in some
// unrelated way (an alias that does not resolve).
std::string config_problem(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  char c;
  if (fd < 0 || ::read(fd, &c, 1) < 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return "cannot read ssh config " + file + ": " + why;
  }
  ::close(fd);
  return {};
}

// Creates the --record file (mode 0600: it will hold everything the command
// prints) so that a path that cannot be written is refused before anything
// runs, and makes the path absolute for whoever writes it. Empty when fine,
// else why not.
std::string prepare_recording(std::string& path) {
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd))
      return "cannot record to " + path + ": " + std::strerror(errno);
    path = std::string(cwd) + "/" + path;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot record to " + path + ": " + std::strerror(errno);
  ::close(fd);
  return {};
}

void report_failure(const exec_request& req, const outcome& o) {
  // The one place a failure is worded for the user: transports and actors
  // carry only the reason.
  std::fprintf(stderr, "remex: %s: %s\n", req.host_label().c_str(),
               o.message.c_str());
}

// The broker's outcome, or an error as soon as the broker is gone.
caf::expected<outcome> ask_exec(caf::actor_system& sys,
                                const broker_client& client,
                                const broker_actor& broker, exec_request req,
                                endpoints ends) {
  auto answer = std::make_shared<std::promise<caf::expected<outcome>>>();
  auto got = answer->get_future();
  ask_watched(
      sys, client.liveness(), {}, broker,
      [answer](outcome& o) { answer->set_value(std::move(o)); },
      [answer](const caf::error& e) { answer->set_value(e); },
      [answer](const caf::error& reason) {
        answer->set_value(
            reason ? reason : caf::make_error(caf::sec::request_receiver_down));
      },
      exec_atom::value, std::move(req), std::move(ends));
  try {
    return got.get();
  } catch (const std::future_error&) {
    // The asker ended without answering (it cannot, short of a crash):
    // a line and 255 rather than std::terminate.
    return caf::make_error(caf::sec::request_receiver_down);
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  // --timeout counts from here: connecting and placing the agent included.
  auto started = std::chrono::steady_clock::now();
  std::string error;
  auto opts = parse_run_options(args, error);
  if (!opts) {
    std::fprintf(stderr, "remex: %s (see 'remex run --help')\n", error.c_str());
    return 255;
  }
  auto& req = opts->request;
  // Everything that can be checked here is, before any connection.
  for (auto fd : opts->pass_fds)
    if (!direction_of(fd)) {
      std::fprintf(stderr, "remex: --pass-fd %d: fd %d is not open\n", fd, fd);
      return 255;
    }
  if (!req.connect.ssh_config.empty())
    if (auto why = config_problem(req.connect.ssh_config); !why.empty()) {
      std::fprintf(stderr, "remex: %s\n", why.c_str());
      return 255;
    }
  if (!req.record.empty())
    if (auto why = prepare_recording(req.record); !why.empty()) {
      std::fprintf(stderr, "remex: %s\n", why.c_str());
      return 255;
    }
  auto timeout_ms = req.timeout_ms;
  spdlog::set_level(spdlog::level::from_str(opts->log_level));
  // Connection notices (a host key recorded) are warnings: -v error hides
  // them, like ssh's LogLevel ERROR.
  transport::set_connect_notice_sink(
      [quiet = opts->log_level == "error"](const std::string& line) {
        if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
      });
  ::signal(SIGPIPE, SIG_IGN);
  auto sigs = block_forwarded_signals();

  caf::actor_system_config cfg;
  broker_client client;
  if (!client.ready(*opts, cfg)) return 255;
  caf::actor_system sys{cfg};
  auto broker = client.open_or_exit(sys);

  int stdin_fd = STDIN_FILENO;
  if (opts->stdin_null) stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  auto bridged = std::make_shared<bridge_report>();
  auto ends = bridge_std_fds(sys, stdin_fd, STDOUT_FILENO, STDERR_FILENO,
                             opts->pass_fds, bridged);
  auto relay = spawn_signal_relay(sys);
  ends.signals = relay.source;
  // Detached for good: the process ends with _exit below, not by joining.
  std::thread([sigs, relay, bridged] {
    for (;;) {
      int signo = 0;
      if (sigwait(&sigs, &signo) != 0) continue;
      // Output can arrive before the relay is attached: the command runs
      // either way, and the relay holds the signal until then.
      bool command_runs = *relay.attached || bridged->output_arrived;
      if (!command_runs && ends_remex(signo)) die_by(signo);
      caf::anon_send(relay.input, signal_atom::value, std::int32_t{signo});
    }
  }).detach();

  if (timeout_ms > 0) {
    using namespace std::chrono;
    auto spent = static_cast<std::uint64_t>(
        duration_cast<milliseconds>(steady_clock::now() - started).count());
    req.timeout_ms = spent < timeout_ms ? timeout_ms - spent : 1;
  }
  int code = 255;
  if (auto o = ask_exec(sys, client, broker, req, ends)) {
    code = o->exit_code();
    if (o->failure == transport::failure_kind::output && bridged->pipe_broken)
      code = 128 + SIGPIPE;  // quietly, like a pipeline's writer
    else if (o->kind == outcome::failed && !o->message.empty())
      report_failure(req, *o);
    else if (o->kind == outcome::timed_out)
      std::fprintf(stderr, "remex: %s: timed out after %.3g s%s\n",
                   req.host_label().c_str(), timeout_ms / 1000.0,
                   o->cleanup_done ? "" : " (remote cleanup not confirmed)");
  } else if (client.remote()) {
    // The link or the remexd died: whether the command ran, and how it
    // ended, nobody here can know.
    std::fprintf(stderr,
                 "remex: %s: connection lost; the command's fate is unknown\n",
                 client.label().c_str());
  } else {
    std::fprintf(stderr, "remex: %s: %s\n", req.host_label().c_str(),
                 sys.render(o.error()).c_str());
  }
  // Every byte of output has been written by the sinks before the outcome
  // arrived. Readers may sit in poll() on a terminal: end without joining.
  std::fflush(stdout);
  std::fflush(stderr);
  spdlog::shutdown();
  std::_Exit(code);
}

}  // namespace remex::cli
