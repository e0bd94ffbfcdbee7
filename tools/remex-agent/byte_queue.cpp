#include "tools/remex-agent/byte_queue.hpp"

#include <unistd.h>

#include <cerrno>

namespace remex::agent {

bool byte_queue::flush_to(int fd) {
  while (size() > 0) {
    auto n = ::write(fd, buf_.data() + off_, size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return false;
      // Keep the written prefix from piling up while the reader lags.
      if (off_ > (1u << 20) && off_ * 2 > buf_.size()) {
        buf_.erase(0, off_);
        off_ = 0;
      }
      return true;
    }
    off_ += static_cast<std::size_t>(n);
  }
  // Fully written: reuse the allocation.
  buf_.clear();
  off_ = 0;
  return true;
}

}  // namespace remex::agent
