// A FIFO of bytes waiting for a non-blocking fd.
#pragma once

#include <string>

namespace remex::agent {

class byte_queue {
 public:
  void push(const std::string& bytes) { buf_.append(bytes); }
  void push(const char* p, std::size_t n) { buf_.append(p, n); }
  std::string& tail() { return buf_; }  // append in place (encoders)
  std::size_t size() const { return buf_.size() - off_; }
  bool empty() const { return size() == 0; }
  // Writes what the fd takes now. Returns false on a hard error (errno set).
  bool flush_to(int fd);
  void clear() {
    buf_.clear();
    off_ = 0;
  }

 private:
  std::string buf_;
  std::size_t off_ = 0;
};

}  // namespace remex::agent
