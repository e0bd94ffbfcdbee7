// The agent's side of the wire: frames in from stdin, frames out to stdout,
// both non-blocking, plus the self-pipe that turns signals into events.
#pragma once

#include <string>

#include "protocol/codec.hpp"
#include "tools/remex-agent/byte_queue.hpp"

namespace remex::agent {

struct frame_io {
  protocol::frame_decoder decoder;
  byte_queue out;           // encoded frames for stdout
  bool in_closed = false;   // stdin hit EOF or an error
  bool out_broken = false;  // stdout write failed (EPIPE)

  void send(const protocol::frame& f) { protocol::encode(f, out.tail()); }
  void send_log(std::int64_t level, const std::string& msg) {
    send(protocol::make_log(level, msg));
  }
  // Reads what stdin has now into the decoder (non-blocking).
  void read_stdin();
  // Writes what stdout takes now.
  void flush();
  // Blocks until everything queued is written (or stdout breaks).
  void flush_all();
};

// Makes the pipes to the peer (stdin, stdout) as large as the data frames.
void size_pipes();

// Signals the agent handles in its loop; reads them from the returned fd as
// single bytes (the signal number).
int install_signal_pipe();

}  // namespace remex::agent
