// One command on this machine, its pipes served by a poll_loop. All state
// lives on the loop thread; the exec_channel methods post to it.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "transport/exec_channel.hpp"
#include "transport/group_guard.hpp"
#include "transport/poll_loop.hpp"

namespace remex::transport {

class local_channel : public exec_channel,
                      public std::enable_shared_from_this<local_channel> {
 public:
  // Spawns argv (argv[0] is the program path) with env ("K=V") on top of
  // this process's environment, in a new session. Spawn failures arrive as
  // on_exit(failed spawn).
  static std::shared_ptr<local_channel> start(
      std::shared_ptr<poll_loop> loop, std::vector<std::string> argv,
      std::vector<std::string> env, std::shared_ptr<channel_listener> l);

  ~local_channel() override;

  void write(std::uint32_t s, std::string bytes) override;
  void close_stream(std::uint32_t s) override;
  void signal(int signo) override;
  void consumed(std::uint32_t s, std::size_t n) override;
  void terminate() override;
  void kill() override;

 private:
  local_channel(std::shared_ptr<poll_loop> loop,
                std::shared_ptr<channel_listener> l);

  // Loop thread only, from here on.
  void spawn(const std::vector<std::string>& argv,
             const std::vector<std::string>& env);
  void on_stdin_writable();
  void on_output(int idx);
  void on_child_exit();
  void close_stdin();
  void maybe_report_exit();
  void force_close_after_grace();
  void release();
  void release_guard();

  struct output {
    int fd = -1;
    std::uint32_t stream = 0;
    std::size_t unconsumed = 0;
    std::uint64_t watch = 0;
  };

  std::shared_ptr<poll_loop> loop_;
  std::shared_ptr<channel_listener> listener_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  // Kills the command's group should this process die without doing so.
  group_guard guard_;
  int in_fd_ = -1;
  std::uint64_t in_watch_ = 0;
  std::uint64_t pid_watch_ = 0;
  std::deque<std::string> in_queue_;
  std::size_t in_offset_ = 0;
  bool in_close_requested_ = false;
  output out_[2];
  bool reaped_ = false;
  int wstatus_ = 0;
  bool reported_ = false;
  bool terminating_ = false;
};

}  // namespace remex::transport
