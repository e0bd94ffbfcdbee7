#include "transport/exec_channel.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <utility>

namespace remex::transport {

const char* to_string(failure_kind k) {
  switch (k) {
    case failure_kind::none:
      return "none";
    case failure_kind::connect:
      return "connect";
    case failure_kind::auth:
      return "auth";
    case failure_kind::host_key:
      return "host_key";
    case failure_kind::agent:
      return "agent";
    case failure_kind::spawn:
      return "spawn";
    case failure_kind::lost:
      return "lost";
    case failure_kind::request:
      return "request";
    case failure_kind::output:
      return "output";
    case failure_kind::cluster:
      return "cluster";
  }
  return "unknown";
}

exit_status exit_status::exited_with(int code) {
  exit_status st;
  st.kind = kind_t::exited;
  st.code = code;
  return st;
}

exit_status exit_status::killed_by(int signo, bool core) {
  exit_status st;
  st.kind = kind_t::signaled;
  st.signal = signo;
  st.core_dumped = core;
  return st;
}

exit_status exit_status::failed_with(failure_kind k, int code,
                                     std::string message) {
  exit_status st;
  st.kind = kind_t::failed;
  st.failure = k;
  st.code = code;
  st.message = std::move(message);
  return st;
}

int exit_status::exit_code() const {
  switch (kind) {
    case kind_t::exited:
      return code;
    case kind_t::signaled:
      return 128 + signal;
    case kind_t::failed:
      return code;
  }
  return 255;
}

namespace {
std::atomic<std::size_t> window{default_window};
std::mutex notice_mtx;
std::function<void(const std::string&)> notice_sink;
}  // namespace

std::size_t credit_window() {
  return window.load(std::memory_order_relaxed);
}

void set_credit_window(std::size_t bytes) {
  window.store(bytes > 0 ? bytes : default_window, std::memory_order_relaxed);
}

void set_connect_notice_sink(std::function<void(const std::string&)> sink) {
  std::lock_guard<std::mutex> g{notice_mtx};
  notice_sink = std::move(sink);
}

void connect_notice(const std::string& line) {
  std::lock_guard<std::mutex> g{notice_mtx};
  if (notice_sink) {
    notice_sink(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }
}

void channel_listener::on_notice(std::string line) {
  connect_notice(line);
}

}  // namespace remex::transport
