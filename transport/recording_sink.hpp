// Where a recording goes while the command runs: a file in the seed's
// recorder format (protocol/recording.hpp), written by a thread of its own so
// that the transport's I/O thread only encodes and queues. Thread-safe.
//
// A recording never fails the command: after a write error the sink drops
// everything and says why once (take_error). Memory stays bounded: when the
// disk is slower than the link, a producer waits until the queue is below
// its cap (about as long as the disk needs to take the excess).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "protocol/recording.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

// The header fields only the caller knows (the rest: time, user, pid).
struct recording_context {
  std::string ssh_addr;  // empty for this machine
  std::string ssh_user;
  std::string backend_type;  // "agent" or "ssh"
  std::string backend_addr;
  std::string agent_path;
  // Globs of env names whose values the recording replaces
  // (config/secret_env.hpp).
  std::vector<std::string> secret_env;
};

class recording_sink {
 public:
  // Creates (or truncates) path with mode 0600 and queues the header. On
  // failure returns nullptr and sets error to one line.
  static std::shared_ptr<recording_sink> create(const std::string& path,
                                                const recording_context& ctx,
                                                std::string& error);
  ~recording_sink();
  recording_sink(const recording_sink&) = delete;
  recording_sink& operator=(const recording_sink&) = delete;

  // A command starts: cmd_start with the next seq.
  void command_started(const protocol::exec_msg& exec);
  // One frame through the link.
  void record_frame(protocol::frame_dir dir, const protocol::frame& f);
  // The command ended: cmd_end and footer, then everything is written and
  // the file closed before this returns. Later calls do nothing.
  void command_ended(int exit_code);

  // The first write error as one line, once; "" when none (or said before).
  std::string take_error();

  // Most bytes queued before a producer waits for the writer.
  static constexpr std::size_t queue_cap = 32 * 1024 * 1024;

 private:
  recording_sink(int fd, std::string path);
  protocol::exec_msg redacted(const protocol::exec_msg& exec) const;
  void queue(std::string bytes, std::unique_lock<std::mutex>& lock);
  void writer_loop();
  void stop_writer();

  std::mutex mtx_;
  std::condition_variable cv_;
  int fd_;
  std::string path_;
  std::vector<std::string> secret_env_;
  std::string pending_;
  bool stopping_ = false;
  bool ended_ = false;
  bool failed_ = false;
  bool error_taken_ = false;
  std::string error_;
  std::uint64_t seq_ = 0;
  std::uint64_t commands_ = 0;
  std::thread writer_;
};

// Records a frameless channel (the plain ssh backend, also on this machine)
// as the frames an agent would have exchanged: stdin writes, closes and
// signals as sent data/eof/signal frames; output as received data/eof
// frames; the end as an exit frame (an error frame first when it failed), so
// replay reads both backends alike. open: opens the real channel with the
// listener it is given.
std::shared_ptr<exec_channel> open_recorded_plain(
    std::shared_ptr<recording_sink> sink, const protocol::exec_msg& exec,
    std::shared_ptr<channel_listener> listener,
    const std::function<std::shared_ptr<exec_channel>(
        std::shared_ptr<channel_listener>)>& open);

}  // namespace remex::transport
