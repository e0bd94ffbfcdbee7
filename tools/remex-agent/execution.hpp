// One running command inside the agent: its endpoints toward the child, the
// frames that steer it (data, eof, signal, credit), its output turned into
// frames, and its end. The seed's single-execution loop (mux.cpp) and the
// persistent agent's loop over many (multi_mux.cpp) both drive it.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "protocol/codec.hpp"
#include "tools/remex-agent/byte_queue.hpp"
#include "tools/remex-agent/child_process.hpp"
#include "tools/remex-agent/file_ops.hpp"
#include "tools/remex-agent/frame_io.hpp"

namespace remex::agent {

using clock = std::chrono::steady_clock;

// Most bytes queued toward one side before the other side stops being read.
constexpr std::size_t window = 1024 * 1024;

class execution {
 public:
  // xid 0 and credit 0: the seed's execution (no tags, output limited only
  // by what is queued for stdout). Otherwise every frame carries xid and each
  // output stream sends at most `credit` bytes beyond what the peer granted
  // back with `credit` frames (protocol/PERSISTENT.md).
  execution(child_process child, frame_io& io, file_ops& files,
            std::uint32_t xid = 0, std::size_t credit = 0);
  execution(const execution&) = delete;
  execution& operator=(const execution&) = delete;

  std::uint32_t xid() const { return xid_; }
  // Its exec is not confirmed yet (child_process::exec_status): its output
  // is not read until it is, and a failed exec ends it with `error` and
  // 126/127 instead of output and a status, as if it never started.
  bool starting() const { return child_.exec_status >= 0; }
  pid_t pid() const { return child_.pid; }
  child_process& child() { return child_; }

  // A frame for this execution: data, eof, signal, credit, file-op.
  void handle(protocol::frame& f);
  std::size_t queued_to_child() const;

  // The fds this execution waits on now (stream numbers in `streams`);
  // out_room: the agent's stdout queue has room.
  void want(std::vector<pollfd>& fds, std::vector<std::uint32_t>& streams,
            bool out_room);
  // poll() said revents for stream s.
  void ready(std::uint32_t s, short revents);

  // The reaper saw the child end with wait status st.
  void child_exited(int st);
  bool reaped() const { return reaped_; }
  // The child is gone and its stdout and stderr are closed.
  bool done() const;
  // The last frames: eofs still owed, what extra fds hold, then `exit`.
  void finish();

  // After a signal to a command already gone: when to SIGKILL what is left.
  std::optional<clock::time_point> deadline() const { return leftovers_; }
  void on_timer(clock::time_point now);

  // Multi mode: the input bytes written to the child since the last call go
  // back to the peer as credit frames.
  void send_credit();
  // Multi mode: the peer sent more than its credit allows on some stream
  // (true once; what it sends after that is dropped).
  bool take_overrun() {
    bool o = overrun_ && !overrun_told_;
    overrun_told_ = overrun_;
    return o;
  }

  bool group_alive() const;

 private:
  struct endpoint {
    std::uint32_t stream = 0;
    int fd = -1;
    bool readable = false;     // child → agent still open
    bool writable = false;     // agent → child still open
    bool close_after = false;  // peer sent eof: close/shutdown once drained
    byte_queue to_child;
    std::size_t credit = 0;   // multi: output bytes the peer still takes
    std::size_t written = 0;  // multi: input bytes to grant back
  };

  void add(std::uint32_t s, int fd, bool r, bool w);
  void send(protocol::frame f);
  bool multi() const { return initial_credit_ > 0; }
  void write_child(endpoint& e);
  void close_write(endpoint& e);
  bool read_child(endpoint& e);
  void maybe_close(endpoint& e);
  void finish_extra_fds();
  int exit_code() const;
  void confirm_exec();

  child_process child_;
  frame_io& io_;
  file_ops& files_;
  std::uint32_t xid_;
  std::size_t initial_credit_;
  std::map<std::uint32_t, endpoint> eps_;
  bool reaped_ = false;
  int status_ = 0;
  bool overrun_ = false;
  bool overrun_told_ = false;
  std::optional<spawn_failure> failed_;  // its exec failed
  std::optional<clock::time_point> leftovers_;
};

// Reaps every child that ended (the agent is a subreaper: orphaned
// grandchildren too) and tells `on_child` about each.
using child_handler = std::function<void(pid_t, int)>;
void reap_children(const child_handler& on_child);

// Ends what is left of these executions' groups, all at once: TERM, KILL
// after the grace, then each group's guard is released. Blocks for at most
// the grace plus a second; for the agent's own end.
void terminate_groups(const std::vector<execution*>& xs);

// Stream numbers of the poll entries that are not an execution's.
constexpr std::uint32_t poll_agent_in = 0xFFFFFFF0;
constexpr std::uint32_t poll_agent_out = 0xFFFFFFF1;
constexpr std::uint32_t poll_signals = 0xFFFFFFF2;
// An execution's exec_status (starting()).
constexpr std::uint32_t poll_exec_status = 0xFFFFFFF3;

// Reads the signal self-pipe: reaps children on SIGCHLD (on_child per
// child); false when the agent itself was told to stop.
bool drain_signals(int signal_fd, const child_handler& on_child);

}  // namespace remex::agent
