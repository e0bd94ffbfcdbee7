#include "transport/recording_sink.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "config/secret_env.hpp"
#include "protocol/limits.hpp"

namespace remex::transport {

namespace {

std::int64_t now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch())
      .count();
}

std::string local_user() {
  if (auto* pw = ::getpwuid(::geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (auto* u = std::getenv("USER")) return u;
  return std::to_string(::geteuid());
}

}  // namespace

std::shared_ptr<recording_sink> recording_sink::create(
    const std::string& path, const recording_context& ctx, std::string& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  // It holds everything the command printed: an existing file loses the
  // wider mode it had (a device or a pipe is left as it is).
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 ||
      (S_ISREG(st.st_mode) && (st.st_mode & 07777) != 0600 &&
       ::fchmod(fd, 0600) != 0)) {
    error = "cannot record to " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  std::shared_ptr<recording_sink> s{new recording_sink(fd, path)};
  s->secret_env_ = ctx.secret_env;
  protocol::recording_header h;
  h.start_time = now_ns();
  h.local_user = local_user();
  h.local_pid = ::getpid();
  h.ssh_addr = ctx.ssh_addr;
  h.ssh_user = ctx.ssh_user;
  h.backend_type = ctx.backend_type;
  h.backend_addr = ctx.backend_addr;
  h.agent_path = ctx.agent_path;
  std::string bytes;
  protocol::encode_record(h, bytes);
  std::unique_lock<std::mutex> lock{s->mtx_};
  s->queue(std::move(bytes), lock);
  return s;
}

recording_sink::recording_sink(int fd, std::string path)
    : fd_(fd), path_(std::move(path)) {
  writer_ = std::thread([this] { writer_loop(); });
}

recording_sink::~recording_sink() {
  stop_writer();
}

protocol::exec_msg recording_sink::redacted(
    const protocol::exec_msg& exec) const {
  auto x = exec;
  x.env = config::redact_env(std::move(x.env), secret_env_);
  return x;
}

void recording_sink::command_started(const protocol::exec_msg& exec) {
  protocol::command_start c;
  std::unique_lock<std::mutex> lock{mtx_};
  if (ended_ || failed_) return;
  c.seq = seq_;
  c.start_time = now_ns();
  c.exec = redacted(exec);
  ++commands_;
  std::string bytes;
  protocol::encode_record(c, bytes);
  queue(std::move(bytes), lock);
}

void recording_sink::record_frame(protocol::frame_dir dir,
                                  const protocol::frame& f) {
  // Longer data than one wire frame carries (a plain channel's write) is
  // recorded as the frames an agent link would have carried.
  if (f.t == protocol::frame_type::data &&
      f.d.size() > protocol::max_data_chunk) {
    for (std::size_t off = 0; off < f.d.size(); off += protocol::max_data_chunk)
      record_frame(dir, protocol::make_data(
                            f.s, f.d.substr(off, protocol::max_data_chunk)));
    return;
  }
  protocol::frame_record r;
  r.dir = dir;
  r.ts = now_ns();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (ended_ || failed_) return;
    r.seq = seq_;
  }
  // Encoded outside the lock (a 1 MiB data frame is the common case), so
  // records of the two directions may land a few microseconds out of ts
  // order; replay paces by each record's own ts.
  r.f = f;
  if (r.f.x) r.f.x = redacted(*r.f.x);
  std::string bytes;
  protocol::encode_record(r, bytes);
  std::unique_lock<std::mutex> lock{mtx_};
  if (ended_ || failed_) return;
  queue(std::move(bytes), lock);
}

void recording_sink::command_ended(int exit_code) {
  {
    std::unique_lock<std::mutex> lock{mtx_};
    if (ended_) return;
    if (!failed_) {
      protocol::command_end e;
      e.seq = seq_;
      e.end_time = now_ns();
      e.exit_code = exit_code;
      protocol::recording_footer ft;
      ft.end_time = e.end_time;
      ft.command_count = commands_;
      std::string bytes;
      protocol::encode_record(e, bytes);
      protocol::encode_record(ft, bytes);
      queue(std::move(bytes), lock);
    }
    ended_ = true;
  }
  stop_writer();
}

std::string recording_sink::take_error() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!failed_ || error_taken_) return {};
  error_taken_ = true;
  return error_;
}

void recording_sink::queue(std::string bytes,
                           std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return failed_ || pending_.size() < queue_cap; });
  if (failed_) return;
  if (pending_.empty())
    pending_ = std::move(bytes);
  else
    pending_ += bytes;
  cv_.notify_all();
}

void recording_sink::writer_loop() {
  std::string batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) break;  // stopping, and everything written
      batch.swap(pending_);
      pending_.clear();
      cv_.notify_all();  // room in the queue again
    }
    std::size_t off = 0;
    std::string why;
    while (off < batch.size()) {
      auto n = ::write(fd_, batch.data() + off, batch.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        why = n < 0 ? std::strerror(errno) : "nothing written";
        break;
      }
      off += static_cast<std::size_t>(n);
    }
    batch.clear();
    if (!why.empty()) {
      std::lock_guard<std::mutex> guard{mtx_};
      failed_ = true;
      error_ = "recording to " + path_ + " stopped: " + why +
               " (the command goes on)";
      pending_.clear();
      cv_.notify_all();
    }
  }
}

void recording_sink::stop_writer() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    cv_.notify_all();
  }
  if (writer_.joinable() && writer_.get_id() != std::this_thread::get_id())
    writer_.join();
  std::lock_guard<std::mutex> guard{mtx_};
  if (fd_ >= 0) {
    if (::close(fd_) != 0 && !failed_) {
      failed_ = true;
      error_ = "recording to " + path_ +
               " may be incomplete: " + std::strerror(errno);
    }
    fd_ = -1;
  }
}

namespace {

using protocol::frame_dir;

// Listener and channel in one: between the requester and a frameless channel,
// recording what passes as agent frames.
class plain_recorder : public exec_channel,
                       public channel_listener,
                       public std::enable_shared_from_this<plain_recorder> {
 public:
  plain_recorder(std::shared_ptr<recording_sink> sink,
                 std::shared_ptr<channel_listener> listener)
      : sink_(std::move(sink)), listener_(std::move(listener)) {}

  void attach(std::shared_ptr<exec_channel> ch) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!ended_ && !inner_) inner_ = std::move(ch);
  }

  // exec_channel
  void write(std::uint32_t s, std::string bytes) override {
    sink_->record_frame(frame_dir::sent, protocol::make_data(s, bytes));
    if (auto ch = inner()) ch->write(s, std::move(bytes));
  }
  void close_stream(std::uint32_t s) override {
    sink_->record_frame(frame_dir::sent, protocol::make_eof(s));
    if (auto ch = inner()) ch->close_stream(s);
  }
  void signal(int signo) override {
    sink_->record_frame(frame_dir::sent, protocol::make_signal(signo));
    if (auto ch = inner()) ch->signal(signo);
  }
  void consumed(std::uint32_t s, std::size_t n) override {
    if (auto ch = inner()) ch->consumed(s, n);
  }
  void terminate() override {
    if (auto ch = inner()) ch->terminate();
  }
  void kill() override {
    if (auto ch = inner()) ch->kill();
  }

  // channel_listener (the channel's I/O thread)
  void on_open(std::shared_ptr<exec_channel> ch) override {
    attach(std::move(ch));
    listener_->on_open(shared_from_this());
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    sink_->record_frame(frame_dir::received, protocol::make_data(s, bytes));
    say_error();
    listener_->on_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t s) override {
    sink_->record_frame(frame_dir::received, protocol::make_eof(s));
    listener_->on_eof(s);
  }
  void on_drained(std::uint32_t s, std::size_t n) override {
    listener_->on_drained(s, n);
  }
  void on_log(int level, std::string message) override {
    listener_->on_log(level, std::move(message));
  }
  void on_notice(std::string line) override {
    listener_->on_notice(std::move(line));
  }
  void on_exit(exit_status st) override {
    if (st.kind == exit_status::kind_t::failed && !st.message.empty())
      sink_->record_frame(frame_dir::received,
                          protocol::make_error(st.message));
    sink_->record_frame(frame_dir::received,
                        protocol::make_exit(st.exit_code()));
    sink_->command_ended(st.exit_code());
    say_error();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      ended_ = true;
      inner_.reset();  // breaks the channel → listener → this cycle
    }
    listener_->on_exit(std::move(st));
  }

 private:
  std::shared_ptr<exec_channel> inner() {
    std::lock_guard<std::mutex> guard{mtx_};
    return inner_;
  }
  void say_error() {
    if (auto e = sink_->take_error(); !e.empty()) listener_->on_log(8, e);
  }

  std::shared_ptr<recording_sink> sink_;
  std::shared_ptr<channel_listener> listener_;
  std::mutex mtx_;
  std::shared_ptr<exec_channel> inner_;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<exec_channel> open_recorded_plain(
    std::shared_ptr<recording_sink> sink, const protocol::exec_msg& exec,
    std::shared_ptr<channel_listener> listener,
    const std::function<std::shared_ptr<exec_channel>(
        std::shared_ptr<channel_listener>)>& open) {
  sink->command_started(exec);
  auto rec =
      std::make_shared<plain_recorder>(std::move(sink), std::move(listener));
  rec->attach(open(rec));
  return rec;
}

}  // namespace remex::transport
