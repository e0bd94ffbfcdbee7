#include "transport/multiplexed_exec.hpp"

#include <signal.h>

#include "protocol/codec.hpp"
#include "protocol/limits.hpp"

namespace remex::transport {

using protocol::frame;
using protocol::frame_type;

multiplexed_exec::multiplexed_exec(std::shared_ptr<channel_listener> listener,
                                   protocol::agent_config cfg, command cmd)
    : listener_(std::move(listener)),
      cfg_(std::move(cfg)),
      cmd_(std::move(cmd)) {}

bool multiplexed_exec::bind_link(std::shared_ptr<exec_link> link,
                                 std::uint32_t xid, std::size_t credit_batch,
                                 std::string exec_frames) {
  std::lock_guard<std::mutex> g{op_mtx_};
  // Cancelled meanwhile (terminate or kill before it ran): it stays off.
  if (bound_) return false;
  link->send(std::move(exec_frames));
  link_ = std::move(link);
  xid_ = xid;
  credit_batch_ = credit_batch;
  bound_ = true;
  for (auto& op : waiting_) op();
  waiting_.clear();
  return true;
}

void multiplexed_exec::bind_inner(std::shared_ptr<exec_channel> inner) {
  std::lock_guard<std::mutex> g{op_mtx_};
  inner_ = std::move(inner);
  bound_ = true;
  for (auto& op : waiting_) op();
  waiting_.clear();
}

void multiplexed_exec::opened() {
  listener_->on_open(shared_from_this());
}

void multiplexed_exec::run(std::function<void()> op) {
  std::lock_guard<std::mutex> g{op_mtx_};
  if (bound_)
    op();
  else
    waiting_.push_back(std::move(op));
}

void multiplexed_exec::send_frame(const frame& f) {
  if (link_) link_->send(protocol::encode(protocol::with_xid(f, xid_)));
}

void multiplexed_exec::write(std::uint32_t s, std::string bytes) {
  run([this, s, bytes = std::move(bytes)]() mutable {
    if (inner_) return inner_->write(s, std::move(bytes));
    if (!link_) return;
    std::string out;
    std::size_t off = 0;
    do {
      auto n = std::min(bytes.size() - off, protocol::max_data_chunk);
      protocol::encode_data_head(s, n, out, xid_);
      out.append(bytes, off, n);
      off += n;
    } while (off < bytes.size());
    link_->send(std::move(out));
  });
}

void multiplexed_exec::close_stream(std::uint32_t s) {
  run([this, s] {
    if (inner_) return inner_->close_stream(s);
    send_frame(protocol::make_eof(s));
  });
}

void multiplexed_exec::signal(int signo) {
  run([this, signo] {
    if (inner_) return inner_->signal(signo);
    send_frame(protocol::make_signal(signo));
  });
}

void multiplexed_exec::consumed(std::uint32_t s, std::size_t n) {
  run([this, s, n] {
    if (inner_) return inner_->consumed(s, n);
    // Batched: one credit frame per chunk consumed would double the
    // frames on the link. The agent stops at its window, and a window
    // consumed is always at least one batch, so nothing waits for ever.
    auto& owed = owed_[s];
    owed += n;
    if (owed >= credit_batch_) {
      send_frame(protocol::make_credit(xid_, s, owed));
      owed = 0;
    }
  });
}

void multiplexed_exec::terminate() {
  bool never_ran = false;
  {
    std::lock_guard<std::mutex> g{op_mtx_};
    if (inner_) {
      auto inner = inner_;
      inner->terminate();
      return;
    }
    if (bound_) {
      frame f;
      f.t = frame_type::stop;
      send_frame(f);
    } else {
      // Not on an agent yet: it never ran, and never will (the link skips
      // an execution that ended while it waited).
      never_ran = true;
      bound_ = true;
      waiting_.clear();
    }
  }
  if (never_ran)
    end(exit_status::failed_with(
        failure_kind::agent, 255,
        "the command was cancelled before it started"));
}

void multiplexed_exec::kill() {
  std::shared_ptr<exec_link> link;
  bool never_ran = false;
  {
    std::lock_guard<std::mutex> g{op_mtx_};
    if (inner_) {
      auto inner = inner_;
      inner->kill();
      return;
    }
    never_ran = !bound_;
    bound_ = true;
    waiting_.clear();
    link = link_;
    if (link)
      link->send(protocol::encode(
          protocol::with_xid(protocol::make_signal(SIGKILL), xid_)));
  }
  // Given up at once, as the seed's channel gives up its agent: the
  // group's SIGKILL is on its way, the outcome is unknown.
  if (link) link->abandon(xid_);
  end(exit_status::failed_with(
      never_ran ? failure_kind::agent : failure_kind::lost, 255,
      never_ran ? "the command was cancelled before it started"
                : "the command was killed; its end was not confirmed"));
}

bool multiplexed_exec::deliver(frame& f) {
  switch (f.t) {
    case frame_type::data:
      listener_->on_data(f.s, std::move(f.d));
      return false;
    case frame_type::eof:
      listener_->on_eof(f.s);
      return false;
    case frame_type::credit:
      if (f.n > 0) listener_->on_drained(f.s, static_cast<std::size_t>(f.n));
      return false;
    case frame_type::error:
      // Kept for the outcome it explains (not found, bad cwd).
      error_ = f.e;
      return false;
    case frame_type::log: {
      std::string msg = f.l ? f.l->msg : "";
      if (f.l)
        for (auto& a : f.l->a) msg += " " + a;
      listener_->on_log(f.l ? static_cast<int>(f.l->lvl) : 0, msg);
      return false;
    }
    case frame_type::exit:
      if (!error_.empty() && (f.c == 126 || f.c == 127))
        end(exit_status::failed_with(failure_kind::spawn, static_cast<int>(f.c),
                                     error_));
      else if (!error_.empty() && f.c == 255)
        end(exit_status::failed_with(failure_kind::agent, 255, error_));
      else {
        if (!error_.empty()) listener_->on_log(8, "agent error: " + error_);
        end(exit_status::exited_with(static_cast<int>(f.c)));
      }
      return true;
    default:
      listener_->on_log(4, std::string("ignored agent frame type ") +
                               std::to_string(static_cast<int>(f.t)));
      return false;
  }
}

void multiplexed_exec::log(int level, std::string message) {
  if (!ended()) listener_->on_log(level, std::move(message));
}

void multiplexed_exec::end(exit_status st) {
  {
    std::lock_guard<std::mutex> g{end_mtx_};
    if (ended_) return;
    ended_ = true;
  }
  listener_->on_exit(std::move(st));
}

bool multiplexed_exec::ended() const {
  std::lock_guard<std::mutex> g{end_mtx_};
  return ended_;
}

}  // namespace remex::transport
