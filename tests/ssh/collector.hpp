// A channel_listener that records everything and returns credit at once,
// so tests can wait for an outcome and look at the bytes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "transport/exec_channel.hpp"

namespace remex::test {

class collector : public transport::channel_listener {
 public:
  void on_data(std::uint32_t s, std::string bytes) override {
    std::shared_ptr<transport::exec_channel> ch;
    {
      std::lock_guard<std::mutex> g{mtx};
      out[s] += bytes;
      ch = channel;
    }
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
  }
  void on_exit(transport::exit_status st) override {
    std::lock_guard<std::mutex> g{mtx};
    ++exits;
    status = std::move(st);
    channel.reset();  // break the listener ↔ channel cycle
    cv.notify_all();
  }

  // The test's own copy of the channel (on_open may still be on its way).
  void attach(std::shared_ptr<transport::exec_channel> ch) {
    std::lock_guard<std::mutex> g{mtx};
    if (!exits) channel = std::move(ch);
  }

  bool wait_exit(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> g{mtx};
    return cv.wait_for(g, timeout, [this] { return exits > 0; });
  }
  bool wait_output(std::uint32_t s, const std::string& needle,
                   std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> g{mtx};
    return cv.wait_for(g, timeout, [&] {
      return out[s].find(needle) != std::string::npos || exits > 0;
    }) && out[s].find(needle) != std::string::npos;
  }
  std::string stream(std::uint32_t s) {
    std::lock_guard<std::mutex> g{mtx};
    return out[s];
  }
  std::size_t size(std::uint32_t s) {
    std::lock_guard<std::mutex> g{mtx};
    return out[s].size();
  }

  bool auto_consume = true;
  std::mutex mtx;
  std::condition_variable cv;
  std::string out[4];
  bool eof[4] = {false, false, false, false};
  std::size_t drained = 0;
  int exits = 0;
  transport::exit_status status;
  std::shared_ptr<transport::exec_channel> channel;
};

// Opens command on p with a fresh collector attached.
template <class Provider>
std::shared_ptr<collector> run(Provider& p, std::string command,
                               std::vector<std::string> env = {}) {
  auto col = std::make_shared<collector>();
  auto ch = p.open_exec(std::move(command), std::move(env), col);
  col->attach(ch);
  return col;
}

}  // namespace remex::test
