#include "actors/channel_ref.hpp"

#include <utility>

namespace remex::actors {

void channel_ref::set(std::shared_ptr<transport::exec_channel> ch) {
  std::map<std::uint32_t, std::size_t> credit;
  bool kill = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ch_ = ch;
    credit.swap(pending_credit_);
    kill = terminate_pending_;
  }
  // Outside the lock: a transport may call back into listeners synchronously.
  for (auto& [s, n] : credit) ch->consumed(s, n);
  if (kill) ch->terminate();
}

std::shared_ptr<transport::exec_channel> channel_ref::get() {
  std::lock_guard<std::mutex> guard{mtx_};
  return ch_;
}

void channel_ref::consumed(std::uint32_t s, std::size_t n) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!ch_) {
      pending_credit_[s] += n;
      return;
    }
  }
  get()->consumed(s, n);
}

void channel_ref::write(std::uint32_t s, std::string bytes) {
  if (auto ch = get()) ch->write(s, std::move(bytes));
}

void channel_ref::close_stream(std::uint32_t s) {
  if (auto ch = get()) ch->close_stream(s);
}

void channel_ref::signal(int signo) {
  if (auto ch = get()) ch->signal(signo);
}

void channel_ref::terminate() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!ch_) {
      terminate_pending_ = true;
      return;
    }
  }
  get()->terminate();
}

}  // namespace remex::actors
