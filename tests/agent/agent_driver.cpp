#include "agent_driver.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

extern char** environ;

namespace remex::test {

namespace {

long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

agent_driver::agent_driver(std::optional<std::vector<std::string>> env) {
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) std::abort();
  std::vector<char*> envp;
  if (env) {
    for (auto& e : *env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    char* argv[] = {const_cast<char*>(REMEX_AGENT_PATH), nullptr};
    ::execve(REMEX_AGENT_PATH, argv, env ? envp.data() : environ);
    ::_exit(99);
  }
  ::close(in[0]);
  ::close(out[1]);
  in_fd_ = in[1];
  out_fd_ = out[0];
  ::fcntl(in_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
}

agent_driver::~agent_driver() {
  if (in_fd_ >= 0) ::close(in_fd_);
  if (out_fd_ >= 0) ::close(out_fd_);
  if (status_ == -1 && pid_ > 0) {
    if (wait_agent(5000) == -1) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
}

void agent_driver::send(const protocol::frame& f) {
  protocol::encode(f, pending_);
}

void agent_driver::send_raw(const std::string& bytes) {
  pending_ += bytes;
}

void agent_driver::send_exec(std::string path, std::vector<std::string> argv,
                             std::vector<std::uint32_t> fds) {
  protocol::frame f;
  f.t = protocol::frame_type::exec;
  protocol::exec_msg x;
  x.path = std::move(path);
  x.argv = std::move(argv);
  x.fds = std::move(fds);
  f.x = std::move(x);
  send(f);
}

void agent_driver::send_hello(std::uint64_t max, std::uint64_t win) {
  protocol::hello_msg h;
  h.v = protocol::persistent_version;
  h.caps = {protocol::cap_multi};
  h.max = max;
  h.win = win;
  send(protocol::make_hello(h));
}

void agent_driver::send_exec(std::uint32_t xid, std::string path,
                             std::vector<std::string> argv,
                             std::vector<std::uint32_t> fds) {
  protocol::frame f;
  f.t = protocol::frame_type::exec;
  f.xid = xid;
  f.x = protocol::exec_msg{
      std::move(path), std::move(argv), {}, {}, std::move(fds)};
  send(f);
}

void agent_driver::close_input() {
  close_when_sent_ = true;
}

void agent_driver::close_output() {
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

void agent_driver::handle(protocol::frame& f) {
  order.push_back(f.t);
  if (f.xid != 0) {
    auto& x = execs[f.xid];
    switch (f.t) {
      case protocol::frame_type::data:
        if (!withhold_credit.count(f.xid) && !f.d.empty())
          send(protocol::make_credit(f.xid, f.s, f.d.size()));
        x.data[f.s] += f.d;
        break;
      case protocol::frame_type::eof:
        x.eofs.insert(f.s);
        break;
      case protocol::frame_type::exit:
        x.exit_code = f.c;
        break;
      case protocol::frame_type::error:
        x.errors.push_back(f.e);
        break;
      case protocol::frame_type::credit:
        x.credit[f.s] += f.n;
        break;
      default:
        others.push_back(std::move(f));
    }
    return;
  }
  if (f.t == protocol::frame_type::hello && f.hi) {
    hello = *f.hi;
    return;
  }
  switch (f.t) {
    case protocol::frame_type::data:
      data_bytes[f.s] += f.d.size();
      if (keep_data) data[f.s] += f.d;
      break;
    case protocol::frame_type::eof:
      eofs.insert(f.s);
      break;
    case protocol::frame_type::exit:
      exit_code = f.c;
      break;
    case protocol::frame_type::error:
      errors.push_back(f.e);
      break;
    case protocol::frame_type::log:
      if (f.l) logs.push_back(*f.l);
      break;
    default:
      others.push_back(std::move(f));
  }
}

bool agent_driver::pump_until(const std::function<bool()>& done,
                              int timeout_ms) {
  auto deadline = now_ms() + timeout_ms;
  std::vector<char> buf(256 * 1024);
  while (!done()) {
    if (in_fd_ >= 0 && pending_off_ == pending_.size() && close_when_sent_) {
      ::close(in_fd_);
      in_fd_ = -1;
    }
    pollfd fds[2];
    int n = 0;
    int in_idx = -1, out_idx = -1;
    if (in_fd_ >= 0 && pending_off_ < pending_.size()) {
      in_idx = n;
      fds[n++] = {in_fd_, POLLOUT, 0};
    }
    if (out_fd_ >= 0 && read_output) {
      out_idx = n;
      fds[n++] = {out_fd_, POLLIN, 0};
    }
    auto left = deadline - now_ms();
    if (left <= 0) return false;
    ::poll(fds, n, static_cast<int>(std::min<long>(left, 50)));
    if (in_idx >= 0 && fds[in_idx].revents) {
      auto w = ::write(in_fd_, pending_.data() + pending_off_,
                       pending_.size() - pending_off_);
      if (w > 0) {
        pending_off_ += static_cast<std::size_t>(w);
        if (pending_off_ == pending_.size()) {
          pending_.clear();
          pending_off_ = 0;
        }
      } else if (w < 0 && errno != EAGAIN) {
        pending_.clear();  // the agent is gone
        pending_off_ = 0;
      }
    }
    if (out_idx >= 0 && fds[out_idx].revents) {
      auto r = ::read(out_fd_, buf.data(), buf.size());
      if (r > 0) {
        decoder_.feed(buf.data(), static_cast<std::size_t>(r));
        protocol::frame f;
        for (;;) {
          auto st = decoder_.next(f);
          if (st == protocol::frame_decoder::status::frame) {
            handle(f);
            f = protocol::frame{};
            continue;
          }
          if (st == protocol::frame_decoder::status::error)
            decode_error = decoder_.error_message();
          break;
        }
      } else if (r == 0 || errno != EAGAIN) {
        ::close(out_fd_);
        out_fd_ = -1;
      }
    }
    if (n == 0 && out_fd_ < 0 && !done()) return false;
  }
  return true;
}

bool agent_driver::run_to_end(int timeout_ms) {
  return pump_until([this] { return out_fd_ < 0; }, timeout_ms) &&
         exit_code.has_value();
}

int agent_driver::wait_agent(int timeout_ms) {
  if (status_ != -1) return status_;
  auto deadline = now_ms() + timeout_ms;
  for (;;) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      return st;
    }
    if (now_ms() > deadline) return -1;
    ::usleep(2000);
  }
}

std::string make_temp_dir() {
  char tmpl[] = "/tmp/remex-agent-test-XXXXXX";
  auto* p = ::mkdtemp(tmpl);
  return p ? p : "";
}

std::string make_memory_temp_dir() {
  struct statfs fs {};
  if (::statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC &&
      ::access("/dev/shm", W_OK | X_OK) == 0) {
    char tmpl[] = "/dev/shm/remex-agent-test-XXXXXX";
    if (auto* p = ::mkdtemp(tmpl)) return p;
  }
  return make_temp_dir();
}

}  // namespace remex::test
