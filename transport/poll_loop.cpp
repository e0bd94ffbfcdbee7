#include "transport/poll_loop.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace remex::transport {

std::shared_ptr<poll_loop> poll_loop::make() {
  std::shared_ptr<poll_loop> loop{new poll_loop};
  loop->thread_ = std::thread([loop] { loop->run(); });
  return loop;
}

poll_loop::poll_loop() {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

poll_loop::~poll_loop() {
  // Only the loop thread's own reference can be the last one: it is dropped
  // as the thread ends, so there is nothing left to join.
  if (thread_.joinable()) thread_.detach();
  ::close(wake_fd_);
}

void poll_loop::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake();
}

void poll_loop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    posted_.push_back(std::move(task));
  }
  wake();
}

void poll_loop::wake() {
  std::uint64_t one = 1;
  auto rc = ::write(wake_fd_, &one, sizeof one);
  (void)rc;  // EAGAIN: the counter is already non-zero, a wakeup is pending
}

std::uint64_t poll_loop::watch(int fd, interest_fn interest, ready_fn ready) {
  auto id = next_id_++;
  watches_.emplace(id, watch_entry{fd, std::move(interest), std::move(ready)});
  return id;
}

void poll_loop::unwatch(std::uint64_t id) {
  watches_.erase(id);
}

void poll_loop::after(std::chrono::milliseconds delay,
                      std::function<void()> task) {
  timers_.emplace(clock::now() + delay, std::move(task));
}

bool poll_loop::in_loop_thread() const {
  return std::this_thread::get_id() == loop_thread_.load();
}

void poll_loop::run() {
  loop_thread_ = std::this_thread::get_id();
  run_until_stopped();
  // Watches, timers and tasks hold their channels, which hold this loop.
  watches_.clear();
  timers_.clear();
  std::lock_guard<std::mutex> guard{mtx_};
  posted_.clear();
}

void poll_loop::run_until_stopped() {
  std::vector<pollfd> fds;
  std::vector<std::uint64_t> ids;
  for (;;) {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_) return;
      tasks.swap(posted_);
    }
    for (auto& t : tasks) t();
    auto now = clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      auto task = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      task();
    }
    fds.clear();
    ids.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    ids.push_back(0);
    for (auto& [id, w] : watches_) {
      auto ev = w.interest();
      if (ev != 0) {
        fds.push_back({w.fd, ev, 0});
        ids.push_back(id);
      }
    }
    int timeout = -1;
    if (!timers_.empty()) {
      auto due = timers_.begin()->first - clock::now();
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(due);
      timeout = static_cast<int>(std::max<long>(0, ms.count() + 1));
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!posted_.empty()) timeout = 0;
    }
    auto rc = ::poll(fds.data(), fds.size(), timeout);
    if (rc < 0 && errno != EINTR) continue;
    if (fds[0].revents & POLLIN) {
      std::uint64_t n;
      while (::read(wake_fd_, &n, sizeof n) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      // A handler may have unwatched this one (or others) meanwhile.
      auto it = watches_.find(ids[i]);
      if (it != watches_.end()) {
        auto ready = it->second.ready;
        ready(fds[i].revents);
      }
    }
  }
}

}  // namespace remex::transport
