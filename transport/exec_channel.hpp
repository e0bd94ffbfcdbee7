// The backend-neutral view of one running remote command. Every backend
// (ssh exec channel, agent over ssh, local fork/exec, agent over local pipes)
// produces an exec_channel; actors only ever see this interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace remex::transport {

// Why a command could not run or its fate is unknown (DESIGN.md outcomes).
// request, output and cluster are the actors' own: refused before it ran,
// the requester's end of a stream failed, no node could serve it.
enum class failure_kind : std::uint8_t {
  none,
  connect,
  auth,
  host_key,
  agent,
  spawn,
  lost,
  request,
  output,
  cluster,
};
const char* to_string(failure_kind k);

// How the remote command ended, as the backend saw it.
struct exit_status {
  enum class kind_t { exited, signaled, failed };
  kind_t kind = kind_t::exited;
  int code =
      0;  // exited: exit code; failed: 255 (link/host) or 127/126 (spawn)
  int signal = 0;  // signaled: signal number
  bool core_dumped = false;
  failure_kind failure = failure_kind::none;
  std::string message;  // failed: one line saying what and where

  static exit_status exited_with(int code);
  static exit_status killed_by(int signo, bool core = false);
  static exit_status failed_with(failure_kind k, int code, std::string message);

  // The process exit code a CLI reports: code, 128+signal, or the failure's
  // code.
  int exit_code() const;
};

// Receives what happens on a channel. Called from the transport's own I/O
// thread: implementations must not block (actors forward to a mailbox).
class exec_channel;

class channel_listener {
 public:
  virtual ~channel_listener() = default;
  // The channel, before any other call: credit and control may go to it
  // from here on (like libssh's channel callbacks, OpenSSH's open-confirm).
  // Failures that leave no channel still come as on_open, then on_exit.
  virtual void on_open(std::shared_ptr<exec_channel> ch) { (void)ch; }
  // Bytes of stream s: 1 stdout, 2 stderr, 3+ extra fds. The transport keeps
  // at most its window of unconsumed bytes per stream in flight; consumed()
  // returns credit.
  virtual void on_data(std::uint32_t s, std::string bytes) = 0;
  // The remote side closed stream s.
  virtual void on_eof(std::uint32_t s) = 0;
  // n bytes previously given to write(s, ...) reached the remote side; the
  // writer may send that much more (credit for the requester → remote
  // direction).
  virtual void on_drained(std::uint32_t s, std::size_t n) = 0;
  // Diagnostics from the far side (agent log frames); level as slog levels.
  virtual void on_log(int level, std::string message) {
    (void)level, (void)message;
  }
  // A line for the user about the connection this command waits for (a
  // host key recorded), before on_open's channel carries any data. By
  // default it goes to the process's connection notice sink.
  virtual void on_notice(std::string line);
  // The command ended or could not run. Always the last call, exactly once.
  virtual void on_exit(exit_status status) = 0;
};

// Where connection notices without a listener go (one line each): stderr
// until a program sets a sink. Called from connecting threads.
void set_connect_notice_sink(std::function<void(const std::string&)> sink);
void connect_notice(const std::string& line);

// Default credit window per stream and direction.
constexpr std::size_t default_window = 1024 * 1024;
// The window the channels of this process use: default_window unless a
// program sets another (remexd's limits.credit-window, also on SIGHUP).
std::size_t credit_window();
void set_credit_window(std::size_t bytes);

// Control of one running command. All methods are thread-safe and never
// block: they queue work for the transport's I/O thread.
class exec_channel {
 public:
  virtual ~exec_channel() = default;
  // Sends bytes to stream s: 0 stdin, 3+ extra fds.
  virtual void write(std::uint32_t s, std::string bytes) = 0;
  // Closes the remote end of stream s (stdin EOF, or an extra fd's EOF).
  virtual void close_stream(std::uint32_t s) = 0;
  // Delivers signal signo to the remote process group.
  virtual void signal(int signo) = 0;
  // The listener consumed n bytes of stream s: the transport may read more.
  virtual void consumed(std::uint32_t s, std::size_t n) = 0;
  // Ends the remote process group the backend's polite way (TERM, then KILL
  // after the far side's own short grace) and releases the channel; on_exit
  // follows.
  virtual void terminate() = 0;
  // Gives up at once: SIGKILL to the group where the backend can reach it,
  // and the channel (and with it an agent that does not answer) is dropped;
  // on_exit follows. The supervisor calls it when terminate() was not
  // confirmed in time.
  virtual void kill() = 0;
};

}  // namespace remex::transport
