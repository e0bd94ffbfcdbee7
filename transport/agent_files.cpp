#include "transport/agent_files.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "protocol/codec.hpp"

namespace remex::transport {

namespace {

using protocol::frame;
using protocol::frame_type;

// How long the agent gets to exit after its stdin closed before the raw
// channel is terminated (as for an execution).
constexpr std::chrono::seconds agent_exit_grace{5};

class agent_files : public file_session,
                    public std::enable_shared_from_this<agent_files> {
 public:
  void request(protocol::file_op_request req,
               std::function<void(file_answer)> done) override {
    frame f;
    f.t = frame_type::file_op;
    std::unique_lock<std::mutex> guard{mtx_};
    if (failed_ != failure_kind::none || closed_) {
      auto answer = lost_answer();
      guard.unlock();
      done(std::move(answer));
      return;
    }
    req.id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;  // 0 is "no id" on the wire
    pending_.emplace(req.id, std::move(done));
    f.fop = std::move(req);
    send_locked(guard, protocol::encode(f));
  }

  void query_paths(std::vector<std::string> dirs,
                   std::function<void(paths_answer)> done) override {
    frame f;
    f.t = frame_type::path_query;
    f.q = protocol::path_query{std::move(dirs)};
    std::unique_lock<std::mutex> guard{mtx_};
    if (failed_ != failure_kind::none || closed_ || paths_) {
      auto lost = lost_answer();
      guard.unlock();
      done({{},
            lost.failure == failure_kind::none ? failure_kind::agent
                                               : lost.failure,
            lost.message.empty() ? "path query already sent" : lost.message});
      return;
    }
    paths_ = std::move(done);
    send_locked(guard, protocol::encode(f));
  }

  void on_log(std::function<void(int, std::string)> sink) override {
    std::lock_guard<std::mutex> guard{mtx_};
    log_ = std::move(sink);
  }

  void close() override {
    std::shared_ptr<exec_channel> raw;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_) return;
      closed_ = true;
      raw = raw_;
    }
    fail_all(failure_kind::lost, "file session closed");
    if (!raw) return;  // raw_open sees closed_ and closes then
    close_raw(raw);
  }

  // The raw channel's events (its I/O thread).
  void raw_open(std::shared_ptr<exec_channel> raw) {
    std::string early;
    bool closed = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw_ = raw;
      early.swap(unsent_);
      closed = closed_;
    }
    if (!early.empty()) raw->write(0, std::move(early));
    if (closed) close_raw(raw);
  }

  void raw_data(std::uint32_t s, std::string bytes) {
    auto size = bytes.size();
    if (s == 2) {
      // The agent's own stderr: diagnostics before (or instead of) frames.
      while (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
      if (!bytes.empty()) {
        {
          std::lock_guard<std::mutex> guard{mtx_};
          stderr_tail_ =
              bytes.substr(bytes.size() > 512 ? bytes.size() - 512 : 0);
        }
        log(4, "agent stderr: " + bytes);
      }
      credit(2, size);
      return;
    }
    decoder_.feed(std::move(bytes));
    frame f;
    for (;;) {
      auto st = decoder_.next(f);
      if (st == protocol::frame_decoder::status::need_more) break;
      if (st == protocol::frame_decoder::status::error) {
        fail_all(failure_kind::agent,
                 "bad frame from agent: " + decoder_.error_message());
        if (auto raw = get_raw()) raw->terminate();
        return;
      }
      handle(f);
      f = frame{};
    }
    credit(1, size);
  }

  void raw_exit(const exit_status& st) {
    std::string why;
    failure_kind kind = failure_kind::agent;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raw_.reset();  // breaks the raw → listener → this cycle
      if (st.kind == exit_status::kind_t::failed) {
        kind =
            st.failure == failure_kind::none ? failure_kind::lost : st.failure;
        why = st.message;
      } else if (!error_.empty()) {
        why = "agent: " + error_;
      } else {
        why = "agent ended (" +
              (st.kind == exit_status::kind_t::signaled
                   ? "killed by signal " + std::to_string(st.signal)
                   : "exit code " + std::to_string(st.code)) +
              ")";
        if (!stderr_tail_.empty()) why += ": " + stderr_tail_;
      }
    }
    fail_all(kind, why);
  }

  // Fails everything (used for sessions that never started, too).
  void fail_all(failure_kind kind, std::string why) {
    std::map<std::uint32_t, std::function<void(file_answer)>> pending;
    std::function<void(paths_answer)> paths;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (failed_ == failure_kind::none) {
        failed_ = kind;
        message_ = why;
      }
      pending.swap(pending_);
      paths.swap(paths_);
      kind = failed_;
      why = message_;
    }
    for (auto& [id, done] : pending) done({{}, kind, why});
    if (paths) paths({{}, kind, why});
  }

 private:
  file_answer lost_answer() const {
    file_answer a;
    a.failure = failed_ != failure_kind::none ? failed_ : failure_kind::lost;
    a.message =
        failed_ != failure_kind::none ? message_ : "file session closed";
    return a;
  }

  void send_locked(std::unique_lock<std::mutex>& guard, std::string bytes) {
    auto raw = raw_;
    if (!raw) {
      unsent_ += bytes;  // before the raw channel opened: in order
      return;
    }
    guard.unlock();
    raw->write(0, std::move(bytes));
  }

  std::shared_ptr<exec_channel> get_raw() {
    std::lock_guard<std::mutex> guard{mtx_};
    return raw_;
  }

  void credit(std::uint32_t s, std::size_t n) {
    if (auto raw = get_raw()) raw->consumed(s, n);
  }

  void log(int level, std::string msg) {
    std::function<void(int, std::string)> sink;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      sink = log_;
    }
    if (sink) sink(level, std::move(msg));
  }

  // Closing the agent's stdin ends a file session normally; an agent that
  // does not go within the grace is terminated with its raw channel.
  static void close_raw(const std::shared_ptr<exec_channel>& raw) {
    raw->close_stream(0);
    std::weak_ptr<exec_channel> weak_raw = raw;
    std::thread([weak_raw] {
      std::this_thread::sleep_for(agent_exit_grace);
      if (auto r = weak_raw.lock()) r->terminate();
    }).detach();
  }

  void handle(frame& f) {
    switch (f.t) {
      case frame_type::file_resp: {
        // Moved, not value_or's copy: d may be a megabyte.
        auto resp = f.frp ? std::move(*f.frp) : protocol::file_op_response{};
        std::function<void(file_answer)> done;
        {
          std::lock_guard<std::mutex> guard{mtx_};
          auto i = pending_.find(resp.id);
          if (i == pending_.end()) return;  // answered already (closed)
          done = std::move(i->second);
          pending_.erase(i);
        }
        done({std::move(resp), failure_kind::none, {}});
        break;
      }
      case frame_type::path_info: {
        std::function<void(paths_answer)> done;
        {
          std::lock_guard<std::mutex> guard{mtx_};
          done.swap(paths_);
        }
        if (done)
          done({f.i.value_or(protocol::path_info{}), failure_kind::none, {}});
        break;
      }
      case frame_type::error: {
        // Kept to explain the end of the session (bad input, ...).
        std::lock_guard<std::mutex> guard{mtx_};
        error_ = f.e;
        break;
      }
      case frame_type::log: {
        std::string msg = f.l ? f.l->msg : "";
        if (f.l)
          for (auto& a : f.l->a) msg += " " + a;
        log(f.l ? static_cast<int>(f.l->lvl) : 0, std::move(msg));
        break;
      }
      default:
        log(4, std::string("ignored agent frame type ") +
                   std::to_string(static_cast<std::uint64_t>(f.t)));
    }
  }

  std::mutex mtx_;
  std::shared_ptr<exec_channel> raw_;
  std::string unsent_;
  bool closed_ = false;
  failure_kind failed_ = failure_kind::none;
  std::string message_;
  std::uint32_t next_id_ = 1;
  std::map<std::uint32_t, std::function<void(file_answer)>> pending_;
  std::function<void(paths_answer)> paths_;
  std::function<void(int, std::string)> log_;
  std::string error_;
  std::string stderr_tail_;
  // I/O thread only:
  protocol::frame_decoder decoder_;
};

// The raw channel's listener; owns the file session while the raw lives.
class raw_listener : public channel_listener {
 public:
  explicit raw_listener(std::shared_ptr<agent_files> s) : s_(std::move(s)) {}
  void on_open(std::shared_ptr<exec_channel> raw) override {
    s_->raw_open(std::move(raw));
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    s_->raw_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  void on_exit(exit_status st) override { s_->raw_exit(st); }

 private:
  std::shared_ptr<agent_files> s_;
};

}  // namespace

std::shared_ptr<file_session> start_agent_files(
    session_provider& provider, const std::string& agent_command_line) {
  auto s = std::make_shared<agent_files>();
  provider.open_exec(agent_command_line, {}, std::make_shared<raw_listener>(s));
  return s;
}

std::shared_ptr<file_session> failed_file_session(exit_status status) {
  auto s = std::make_shared<agent_files>();
  s->fail_all(status.failure == failure_kind::none ? failure_kind::agent
                                                   : status.failure,
              status.message);
  return s;
}

}  // namespace remex::transport
