// A channel_listener that records what a channel reports, returns credit at
// once (unless told not to) and lets the test thread wait for outcomes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "transport/exec_channel.hpp"

namespace remex::test {

class recorder : public transport::channel_listener {
 public:
  explicit recorder(bool consume = true) : auto_consume(consume) {}

  void on_data(std::uint32_t s, std::string bytes) override {
    std::shared_ptr<transport::exec_channel> ch;
    {
      std::lock_guard<std::mutex> g{mtx};
      out[s] += bytes;
      ch = channel;
    }
    // Calls back into the channel from its own I/O thread, as actors may.
    if (ch && auto_consume) ch->consumed(s, bytes.size());
    cv.notify_all();
  }
  void on_open(std::shared_ptr<transport::exec_channel> ch) override {
    std::lock_guard<std::mutex> g{mtx};
    channel = std::move(ch);
  }
  void on_eof(std::uint32_t s) override {
    std::lock_guard<std::mutex> g{mtx};
    eof[s] = true;
    cv.notify_all();
  }
  void on_drained(std::uint32_t, std::size_t n) override {
    std::lock_guard<std::mutex> g{mtx};
    drained += n;
    cv.notify_all();
  }
  void on_log(int, std::string m) override {
    std::lock_guard<std::mutex> g{mtx};
    logs += m + "\n";
  }
  void on_exit(transport::exit_status st) override {
    std::lock_guard<std::mutex> g{mtx};
    ++exits;
    status = std::move(st);
    channel.reset();
    cv.notify_all();
  }

  // The test's own copy of the channel (on_open may still be on its way).
  void attach(std::shared_ptr<transport::exec_channel> ch) {
    std::lock_guard<std::mutex> g{mtx};
    if (!exits) channel = std::move(ch);
  }

  // The channel as the test thread may read it: on_open writes it from the
  // I/O thread (ThreadSanitizer caught the unlocked read).
  std::shared_ptr<transport::exec_channel> current() {
    std::lock_guard<std::mutex> g{mtx};
    return channel;
  }

  template <class Pred>
  bool wait_for(std::chrono::milliseconds t, Pred p) {
    std::unique_lock<std::mutex> g{mtx};
    return cv.wait_for(g, t, p);
  }
  bool wait_exit(std::chrono::milliseconds t = std::chrono::seconds(30)) {
    return wait_for(t, [this] { return exits > 0; });
  }
  bool wait_output(std::uint32_t s, const std::string& needle,
                   std::chrono::milliseconds t = std::chrono::seconds(10)) {
    return wait_for(t,
                    [&] {
                      return out[s].find(needle) != std::string::npos ||
                             exits > 0;
                    }) &&
           stream(s).find(needle) != std::string::npos;
  }
  std::string stream(std::uint32_t s) {
    std::lock_guard<std::mutex> g{mtx};
    return out[s];
  }
  std::size_t size(std::uint32_t s) {
    std::lock_guard<std::mutex> g{mtx};
    return out[s].size();
  }

  bool auto_consume;
  std::mutex mtx;
  std::condition_variable cv;
  std::map<std::uint32_t, std::string> out;
  std::map<std::uint32_t, bool> eof;
  std::size_t drained = 0;
  std::string logs;
  int exits = 0;
  transport::exit_status status;
  std::shared_ptr<transport::exec_channel> channel;
};

}  // namespace remex::test
