#include "transport/agent_channel.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>

#include "protocol/codec.hpp"
#include "protocol/limits.hpp"

namespace remex::transport {

namespace {

using protocol::frame;
using protocol::frame_type;

class agent_channel : public exec_channel,
                      public std::enable_shared_from_this<agent_channel> {
 public:
  // hello: the config and exec frames, the first bytes the agent gets.
  agent_channel(std::shared_ptr<channel_listener> l, std::string hello,
                std::shared_ptr<recording_sink> rec)
      : listener_(std::move(l)), rec_(std::move(rec)) {
    send_frame(std::move(hello), 0, 0);
  }

  // The raw channel is there (its I/O thread): the agent gets its frames
  // so far, and the listener its channel, before any data.
  void raw_open(std::shared_ptr<exec_channel> raw) {
    std::string early;
    bool stop = false, kill_now = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw_ = raw;
      early.swap(unsent_);
      stop = terminate_requested_;
      kill_now = kill_requested_;
    }
    raw->write(0, std::move(early));
    listener_->on_open(shared_from_this());
    if (stop) terminate();
    if (kill_now) kill();
  }

  // exec_channel: the requester side.
  void write(std::uint32_t s, std::string bytes) override {
    std::size_t off = 0;
    do {
      auto n = std::min(bytes.size() - off, protocol::max_data_chunk);
      std::string f;
      protocol::encode_data_head(s, n, f);
      f.append(bytes, off, n);
      if (rec_)
        rec_->record_frame(protocol::frame_dir::sent,
                           protocol::make_data(s, bytes.substr(off, n)));
      off += n;
      send_frame(std::move(f), s, n);
    } while (off < bytes.size());
  }
  void close_stream(std::uint32_t s) override {
    auto f = protocol::make_eof(s);
    record(protocol::frame_dir::sent, f);
    send_frame(protocol::encode(f), s, 0);
  }
  void signal(int signo) override {
    auto f = protocol::make_signal(signo);
    record(protocol::frame_dir::sent, f);
    send_frame(protocol::encode(f), 0, 0);
  }
  void consumed(std::uint32_t, std::size_t n) override {
    std::size_t credit = 0;
    std::shared_ptr<exec_channel> raw;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      outstanding_ -= std::min(outstanding_, n);
      credit = take_raw_credit();
      raw = raw_;
    }
    if (raw && credit > 0) raw->consumed(1, credit);
  }
  // Closing the agent's stdin is the agent's signal to kill the command's
  // process group (TERM, then KILL) and exit; killing the agent instead
  // would orphan it.
  void terminate() override {
    std::shared_ptr<exec_channel> raw;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw = raw_;
      if (!raw) terminate_requested_ = !raw_done_;
    }
    if (raw) raw->close_stream(0);
  }
  // An agent that did not end after terminate() (hung, or stopped) goes
  // with its raw channel; its guard process still kills the group.
  void kill() override {
    std::shared_ptr<exec_channel> raw;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw = raw_;
      if (!raw) kill_requested_ = !raw_done_;
    }
    if (raw) raw->kill();
  }

  // The raw channel's events (its I/O thread).
  void raw_data(std::uint32_t s, std::string bytes) {
    if (s == 2) {
      // The agent's own stderr: diagnostics from before the mux was up.
      credit_raw(2, bytes.size());
      while (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
      if (!bytes.empty()) listener_->on_log(4, "agent stderr: " + bytes);
      return;
    }
    auto size = bytes.size();
    decoder_.feed(std::move(bytes));
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw_debt_ += size;
    }
    frame f;
    for (;;) {
      auto st = decoder_.next(f);
      if (st == protocol::frame_decoder::status::need_more) break;
      if (st == protocol::frame_decoder::status::error) {
        fail(failure_kind::agent,
             "bad frame from agent: " + decoder_.error_message());
        // An agent that sent a bad frame may be stuck writing more of it and
        // never read its stdin again: closing stdin alone left it (and its
        // command) running after the outcome was reported. End the group
        // the backend's way, which kills after a grace.
        if (auto raw = get_raw()) raw->terminate();
        return;
      }
      handle(f);
    }
    std::size_t credit = 0;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      credit = take_raw_credit();
    }
    if (credit > 0) credit_raw(1, credit);
  }

  void raw_drained(std::size_t n) {
    // Turn raw bytes drained into the payload bytes of whole frames.
    std::vector<std::pair<std::uint32_t, std::size_t>> done;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      drained_raw_ += n;
      while (!sent_.empty() && drained_raw_ >= sent_.front().frame_size) {
        drained_raw_ -= sent_.front().frame_size;
        if (sent_.front().payload > 0)
          done.emplace_back(sent_.front().stream, sent_.front().payload);
        sent_.pop_front();
      }
    }
    for (auto& [s, p] : done) listener_->on_drained(s, p);
  }

  void raw_notice(std::string line) { listener_->on_notice(std::move(line)); }
  void raw_exit(const exit_status& st) {
    if (!exited_) {
      if (st.kind == exit_status::kind_t::failed)
        report(st);
      else if (!error_.empty())
        fail(failure_kind::agent, error_);
      else
        fail(failure_kind::agent,
             "agent ended without reporting an exit status (" +
                 std::string(st.kind == exit_status::kind_t::signaled
                                 ? "killed by signal " +
                                       std::to_string(st.signal)
                                 : "exit code " + std::to_string(st.code)) +
                 ")");
    }
    std::lock_guard<std::mutex> guard{mtx_};
    raw_done_ = true;
    raw_.reset();  // breaks the raw → listener → this cycle
  }

 private:
  struct sent_frame {
    std::uint32_t stream;
    std::size_t frame_size;
    std::size_t payload;
  };

  std::shared_ptr<exec_channel> get_raw() {
    std::lock_guard<std::mutex> guard{mtx_};
    return raw_;
  }

  void send_frame(std::string bytes, std::uint32_t s, std::size_t payload) {
    std::shared_ptr<exec_channel> raw;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      sent_.push_back({s, bytes.size(), payload});
      raw = raw_;
      // Before the raw channel is open (and so before the listener has
      // this channel), frames wait in order behind the hello.
      if (!raw && !raw_done_) unsent_ += bytes;
    }
    if (raw) raw->write(0, std::move(bytes));
  }

  void credit_raw(std::uint32_t s, std::size_t n) {
    if (auto raw = get_raw()) raw->consumed(s, n);
  }

  // Raw bytes may be read again once the payload they carried is mostly
  // consumed: the listener holds at most about one window unconsumed.
  std::size_t take_raw_credit() {
    if (outstanding_ >= credit_window()) return 0;
    auto c = raw_debt_;
    raw_debt_ = 0;
    return c;
  }

  void record(protocol::frame_dir dir, const frame& f) {
    if (rec_) rec_->record_frame(dir, f);
  }

  // A recording that stopped is said once; the command goes on. (The I/O
  // thread only: the listener's calls come from there.)
  void say_recording_error() {
    if (!rec_) return;
    if (auto e = rec_->take_error(); !e.empty()) listener_->on_log(8, e);
  }

  void handle(frame& f) {
    if (rec_) {
      rec_->record_frame(protocol::frame_dir::received, f);
      say_recording_error();
    }
    if (exited_) return;  // `exit` is terminal
    switch (f.t) {
      case frame_type::data: {
        auto n = f.d.size();
        {
          std::lock_guard<std::mutex> guard{mtx_};
          outstanding_ += n;
        }
        listener_->on_data(f.s, std::move(f.d));
        break;
      }
      case frame_type::eof:
        listener_->on_eof(f.s);
        break;
      case frame_type::exit:
        if (!error_.empty() && (f.c == 126 || f.c == 127))
          report(exit_status::failed_with(failure_kind::spawn,
                                          static_cast<int>(f.c), error_));
        else {
          // The error did not end the command: say it, once, as a log.
          if (!error_.empty()) listener_->on_log(8, "agent error: " + error_);
          report(exit_status::exited_with(static_cast<int>(f.c)));
        }
        break;
      case frame_type::error:
        // Kept for the outcome it explains (not found, bad cwd, broken
        // link), so the user reads it once, not also as a log line.
        error_ = f.e;
        break;
      case frame_type::log: {
        std::string msg = f.l ? f.l->msg : "";
        if (f.l)
          for (auto& a : f.l->a) msg += " " + a;
        listener_->on_log(f.l ? static_cast<int>(f.l->lvl) : 0, msg);
        break;
      }
      default:
        listener_->on_log(4, std::string("ignored agent frame type ") +
                                 std::to_string(static_cast<int>(f.t)));
    }
  }

  void fail(failure_kind k, std::string msg) {
    report(exit_status::failed_with(k, 255, std::move(msg)));
  }

  void report(exit_status st) {
    if (exited_) return;
    exited_ = true;
    // Everything is on disk before anyone learns the command ended.
    if (rec_) {
      rec_->command_ended(st.exit_code());
      say_recording_error();
    }
    listener_->on_exit(std::move(st));
  }

  std::shared_ptr<channel_listener> listener_;
  std::shared_ptr<recording_sink> rec_;  // null: not recorded
  std::mutex mtx_;
  std::shared_ptr<exec_channel> raw_;
  bool raw_done_ = false;
  std::string unsent_;  // frames for the agent before the raw channel opened
  bool terminate_requested_ = false;  // before the raw channel opened
  bool kill_requested_ = false;       // likewise
  std::deque<sent_frame> sent_;
  std::size_t drained_raw_ = 0;
  std::size_t outstanding_ = 0;  // payload delivered, not yet consumed
  std::size_t raw_debt_ = 0;     // raw bytes received, not yet credited
  // I/O thread only:
  protocol::frame_decoder decoder_;
  std::string error_;
  bool exited_ = false;
};

// The raw channel's listener; owns the agent channel while the raw lives.
class raw_listener : public channel_listener {
 public:
  explicit raw_listener(std::shared_ptr<agent_channel> ch)
      : ch_(std::move(ch)) {}
  void on_open(std::shared_ptr<exec_channel> raw) override {
    ch_->raw_open(std::move(raw));
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    ch_->raw_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t n) override {
    ch_->raw_drained(n);
  }
  void on_notice(std::string line) override {
    ch_->raw_notice(std::move(line));
  }
  void on_exit(exit_status st) override { ch_->raw_exit(st); }

 private:
  std::shared_ptr<agent_channel> ch_;
};

}  // namespace

std::shared_ptr<exec_channel> start_agent_exec(
    session_provider& provider, const std::string& agent_command_line,
    const protocol::agent_config& cfg, const command& cmd,
    std::shared_ptr<channel_listener> listener,
    std::shared_ptr<recording_sink> recording) {
  std::string hello;
  frame x;
  x.t = frame_type::exec;
  x.x = protocol::exec_msg{cmd.path, cmd.argv, cmd.env, cmd.cwd, cmd.fds};
  if (recording) recording->command_started(*x.x);
  if (!cfg.env_keep.empty() || !cfg.env_remove.empty()) {
    frame c;
    c.t = frame_type::config;
    c.cfg = cfg;
    protocol::encode(c, hello);
    if (recording) recording->record_frame(protocol::frame_dir::sent, c);
  }
  protocol::encode(x, hello);
  if (recording) recording->record_frame(protocol::frame_dir::sent, x);
  auto ch = std::make_shared<agent_channel>(
      std::move(listener), std::move(hello), std::move(recording));
  provider.open_exec(agent_command_line, {},
                     std::make_shared<raw_listener>(ch));
  return ch;
}

}  // namespace remex::transport
