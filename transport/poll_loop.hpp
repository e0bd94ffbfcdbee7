// One I/O thread with a poll() loop. Transports keep all their per-channel
// state on this thread: other threads only post() tasks, so channels need no
// locks and listener callbacks may call straight back into a channel.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace remex::transport {

class poll_loop {
 public:
  using clock = std::chrono::steady_clock;
  // Which poll events a watch wants now (0: none); asked before every poll.
  using interest_fn = std::function<short()>;
  using ready_fn = std::function<void(short revents)>;

  // Starts the thread, which keeps the loop alive until stop().
  static std::shared_ptr<poll_loop> make();
  ~poll_loop();
  // Ends the thread after the current iteration; pending work is dropped.
  // Thread-safe; the owner of the loop (a provider) calls it when it goes.
  void stop();
  poll_loop(const poll_loop&) = delete;
  poll_loop& operator=(const poll_loop&) = delete;

  // Runs task on the loop thread soon. Thread-safe.
  void post(std::function<void()> task);

  // Loop thread only.
  std::uint64_t watch(int fd, interest_fn interest, ready_fn ready);
  void unwatch(std::uint64_t id);
  void after(std::chrono::milliseconds delay, std::function<void()> task);
  bool in_loop_thread() const;

 private:
  poll_loop();
  void run();
  void run_until_stopped();
  void wake();

  struct watch_entry {
    int fd;
    interest_fn interest;
    ready_fn ready;
  };

  int wake_fd_ = -1;  // eventfd
  std::mutex mtx_;
  std::vector<std::function<void()>> posted_;
  bool stopping_ = false;
  std::map<std::uint64_t, watch_entry> watches_;
  std::multimap<clock::time_point, std::function<void()>> timers_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::thread::id> loop_thread_{};
  std::thread thread_;
};

}  // namespace remex::transport
