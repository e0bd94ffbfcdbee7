// One exec channel over a libssh session: its state machine (queued →
// opening → env → exec → running → done), its I/O, and the exec_channel its
// holder controls it through. Like OpenSSH's channels.c and nchan.c, each
// half of the channel has a named state. Everything here runs on the I/O
// thread of the pool that owns the channel, except ssh_exec_channel's
// methods, which post to it.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport/exec_channel.hpp"

namespace remex::transport::ssh {

using clock = std::chrono::steady_clock;

// Large reads keep the per-call overhead small next to decryption.
constexpr std::size_t read_chunk = 256 * 1024;

// The input half (our stdin to the remote): open, EOF queued behind the
// buffered bytes, or EOF sent.
enum class input_state { open, closing, closed };

// One output stream (stdout, stderr): libssh may still have bytes for it,
// libssh reported its end (bytes may still wait for the listener), or the
// listener was told of the end.
enum class output_state { reading, eof_read, eof_delivered };

// One exec request, from the queue to its exit.
struct chan {
  enum class phase { queued, opening, env, exec, running, done };
  phase state = phase::queued;
  std::string command_line;
  std::vector<std::string> env;
  std::size_t env_sent = 0;  // env entries requested so far
  std::shared_ptr<channel_listener> listener;
  ssh_session session = nullptr;  // the connection it runs on, once placed
  ssh_channel handle = nullptr;
  ssh_channel_callbacks_struct callbacks{};
  // Per output stream (stdout, stderr): bytes taken from libssh but not yet
  // handed to the listener, and bytes handed over but not yet consumed.
  std::string pending[2];
  std::size_t pending_off[2] = {0, 0};
  std::size_t unconsumed[2] = {0, 0};
  output_state output[2] = {output_state::reading, output_state::reading};
  std::deque<std::string> stdin_queue;  // not yet accepted by the channel
  std::size_t stdin_off = 0;
  input_state input = input_state::open;
  std::vector<int> signals;
  bool terminating = false;
  clock::time_point kill_deadline;
  bool remote_eof = false;  // the server sent EOF (data may still be buffered)
  // libssh took in something for this channel (data, EOF, exit, close)
  // since it was last stepped. libssh reads the socket inside many calls
  // (ssh_channel_poll, a flush, another channel's step), and what it reads
  // there wakes no poll(): whoever made the call steps the channel again.
  bool stirred = false;
  bool got_exit_status = false;
  int exit_code = 0;
  bool got_exit_signal = false;
  int exit_signal = 0;
  bool core_dumped = false;
  int refusals = 0;  // opens refused with no other channel open
  // Times its connection died before its exec request was accepted, each
  // time sending it back to the queue for a fresh connection.
  int rewinds = 0;
  // Its place in the order of submission: a connection attempt fails only
  // the channels that were queued when it started.
  std::uint64_t seq = 0;
};

using chan_ptr = std::shared_ptr<chan>;

// What a channel needs from whoever holds its connection (the pool), so
// that the channel never includes the pool.
class chan_owner {
 public:
  virtual ~chan_owner() = default;
  // Runs f on the I/O thread.
  virtual void post(std::function<void()> f) = 0;
  // A failure: its kind and the reason only (the CLI says where).
  virtual exit_status fail(failure_kind k, const std::string& what) const = 0;
  // The server refused to open c's channel (c->handle is still allocated).
  virtual void open_failed(const chan_ptr& c) = 0;
  // libssh found c's connection dead inside c's step, before its exec
  // request was accepted: the owner gives the connection up (and with it
  // c, which never ran).
  virtual void conn_lost(const chan_ptr& c) = 0;
  // c ended with st: release it and tell its listener (once).
  virtual void finish(const chan_ptr& c, exit_status st) = 0;
  // c's holder asked for something: run c now and flush its connection.
  virtual void pump_chan(const chan_ptr& c) = 0;
  // The I/O thread's read buffer, read_chunk bytes.
  virtual std::vector<char>& read_buffer() = 0;
};

// Allocates c's libssh channel on session and starts opening it (step runs
// it on).
void begin_open(chan& c, ssh_session session);

// Runs c's state machine as far as it goes without blocking.
void step(chan_owner& owner, const chan_ptr& c);

// After terminate or a late signal: once the grace is over, ends c with what
// the server said, or as killed.
void expire(chan_owner& owner, const chan_ptr& c, clock::time_point now);

// Frees c's libssh channel (no close: the server refused it or the
// connection is gone) and takes c off its connection.
void drop_handle(chan& c);

// c's connection went away before its exec request was accepted: back to
// queued, to be opened again from the start on another connection. Nothing
// of the caller's has run: stdin, where remex's bootstraps and agents take
// what to do, is written only once the exec was accepted.
void rewind(chan& c);

// Marks c done and closes its libssh channel; false when it already was.
// The owner's finish calls it first, then report_exit.
bool close_chan(chan& c);

// Tells c's listener how the command ended: its last call.
void report_exit(chan& c, exit_status st);

// The exec_channel for c: each call posts to owner's I/O thread.
std::shared_ptr<exec_channel> make_exec_channel(
    std::shared_ptr<chan_owner> owner, chan_ptr c);

}  // namespace remex::transport::ssh
