#include "transport/agent_link.hpp"

#include <algorithm>

namespace remex::transport {

namespace {

using protocol::frame;
using protocol::frame_type;

// The file-op id of the probe behind the hello: any agent answers a file-op,
// so an answer without a hello before it means a seed agent.
constexpr std::uint32_t probe_id = 0xFFFFFFFF;

class link_listener : public channel_listener {
 public:
  explicit link_listener(std::shared_ptr<agent_link> l) : link_(std::move(l)) {}
  void on_open(std::shared_ptr<exec_channel> raw) override {
    link_->raw_open(std::move(raw));
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    link_->raw_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  void on_exit(exit_status st) override {
    link_->raw_exit(st);
    link_.reset();  // breaks the raw → listener → link cycle
  }

 private:
  std::shared_ptr<agent_link> link_;
};

std::string describe(const exit_status& st) {
  if (st.kind == exit_status::kind_t::failed) return st.message;
  if (st.kind == exit_status::kind_t::signaled)
    return "killed by signal " + std::to_string(st.signal);
  return "exit code " + std::to_string(st.code);
}

}  // namespace

agent_link::agent_link(std::string host, agent_link_options opt, events ev)
    : host_(std::move(host)), opt_(opt), ev_(std::move(ev)) {
  if (opt_.window == 0) opt_.window = credit_window();
  max_ = opt_.max_executions;
  window_ = opt_.window;
}

void agent_link::start(session_provider& provider,
                       const std::string& command_line) {
  protocol::hello_msg h;
  h.v = protocol::persistent_version;
  h.caps = {protocol::cap_multi};
  h.max = opt_.max_executions;
  h.win = opt_.window;
  std::string hello = protocol::encode(protocol::make_hello(h));
  frame probe;
  probe.t = frame_type::file_op;
  probe.fop = protocol::file_op_request{};
  probe.fop->id = probe_id;
  probe.fop->op = static_cast<std::uint32_t>(protocol::file_op_code::getwd);
  protocol::encode(probe, hello);
  send(std::move(hello));
  provider.open_exec(command_line, {},
                     std::make_shared<link_listener>(shared_from_this()));
}

bool agent_link::add(std::shared_ptr<multiplexed_exec> x) {
  bool seed = false;
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (state_ == state::ended) return false;
    seed = state_ == state::seed;
    if (!seed) waiting_.push_back(x);
  }
  // Found out to be a seed agent after the host looked: the seed's way.
  if (seed) {
    if (ev_.seed) ev_.seed({std::move(x)});
    return true;
  }
  admit();
  return true;
}

void agent_link::close() {
  std::shared_ptr<exec_channel> raw;
  {
    std::lock_guard<std::mutex> g{mtx_};
    raw = raw_;
  }
  if (raw) raw->close_stream(0);
}

bool agent_link::multi() const {
  std::lock_guard<std::mutex> g{mtx_};
  return state_ == state::multi;
}

std::size_t agent_link::running() const {
  std::lock_guard<std::mutex> g{mtx_};
  return running_.size();
}

std::size_t agent_link::max_executions() const {
  std::lock_guard<std::mutex> g{mtx_};
  return max_;
}

void agent_link::send(std::string encoded) {
  // Under the lock: frames from several threads keep one order on the wire.
  std::lock_guard<std::mutex> g{mtx_};
  if (raw_)
    raw_->write(0, std::move(encoded));
  else if (!raw_done_)
    unsent_ += encoded;
}

void agent_link::abandon(std::uint32_t xid) {
  {
    std::lock_guard<std::mutex> g{mtx_};
    running_.erase(xid);
  }
  admit();
}

void agent_link::admit() {
  // One admission at a time, so a config frame stays next to its exec.
  std::lock_guard<std::mutex> serial{admit_mtx_};
  for (;;) {
    std::shared_ptr<multiplexed_exec> x;
    std::uint32_t xid = 0;
    std::string head;
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (state_ != state::multi || waiting_.empty() || running_.size() >= max_)
        return;
      x = std::move(waiting_.front());
      waiting_.pop_front();
      if (x->ended()) continue;  // cancelled while it waited
      xid = next_xid_++;
      if (next_xid_ == 0) next_xid_ = 1;
      running_[xid] = x;
      // A config applies to the executions after it; sent only when it
      // changes.
      if (!last_cfg_ || !(*last_cfg_ == x->config())) {
        frame c;
        c.t = frame_type::config;
        c.cfg = x->config();
        protocol::encode(c, head);
        last_cfg_ = x->config();
      }
    }
    frame e;
    e.t = frame_type::exec;
    e.xid = xid;
    auto& cmd = x->cmd();
    e.x = protocol::exec_msg{cmd.path, cmd.argv, cmd.env, cmd.cwd, cmd.fds};
    protocol::encode(e, head);
    // The listener has its channel before the agent can answer; what the
    // requester does meanwhile waits in the channel, behind the exec.
    x->opened();
    auto batch =
        std::max<std::size_t>(1, std::min<std::size_t>(64 * 1024, window_ / 2));
    if (!x->bind_link(shared_from_this(), xid, batch, std::move(head))) {
      std::lock_guard<std::mutex> g{mtx_};
      running_.erase(xid);
    }
  }
}

void agent_link::raw_open(std::shared_ptr<exec_channel> raw) {
  std::lock_guard<std::mutex> g{mtx_};
  raw_ = std::move(raw);
  if (!unsent_.empty()) raw_->write(0, std::move(unsent_));
  unsent_.clear();
}

void agent_link::raw_data(std::uint32_t s, std::string bytes) {
  std::shared_ptr<exec_channel> raw;
  {
    std::lock_guard<std::mutex> g{mtx_};
    raw = raw_;
  }
  // Credit for the shared channel goes back at once: each execution's
  // output is bounded by its own credit, so the link never holds one
  // execution's bytes in front of another's.
  if (raw) raw->consumed(s, bytes.size());
  if (s == 2) {
    while (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
    if (bytes.empty()) return;
    std::vector<std::shared_ptr<multiplexed_exec>> all;
    {
      std::lock_guard<std::mutex> g{mtx_};
      for (auto& [xid, x] : running_) all.push_back(x);
    }
    for (auto& x : all) x->log(4, "agent stderr: " + bytes);
    return;
  }
  decoder_.feed(bytes);
  frame f;
  for (;;) {
    auto st = decoder_.next(f);
    if (st == protocol::frame_decoder::status::need_more) return;
    if (st == protocol::frame_decoder::status::error) {
      close();
      end_all(exit_status::failed_with(failure_kind::agent, 255,
                                       "bad frame from the agent on " + host_ +
                                           ": " + decoder_.error_message()));
      return;
    }
    handle(f);
    f = frame{};
  }
}

void agent_link::handle(frame& f) {
  if (f.t == frame_type::hello) {
    bool multi = false;
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (state_ == state::starting && f.hi &&
          std::count(f.hi->caps.begin(), f.hi->caps.end(),
                     protocol::cap_multi) > 0) {
        state_ = state::multi;
        if (f.hi->max > 0) max_ = static_cast<std::size_t>(f.hi->max);
        if (f.hi->win > 0) window_ = static_cast<std::size_t>(f.hi->win);
        multi = true;
      }
    }
    if (multi) admit();
    return;
  }
  if (f.t == frame_type::file_resp && f.frp && f.frp->id == probe_id) {
    std::vector<std::shared_ptr<multiplexed_exec>> handed;
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (state_ != state::starting) return;  // answered after its hello
      state_ = state::seed;
      handed.assign(waiting_.begin(), waiting_.end());
      waiting_.clear();
    }
    // A seed agent: it ends when its stdin closes, and every execution
    // goes the seed's way.
    close();
    if (ev_.seed) ev_.seed(std::move(handed));
    return;
  }
  if (f.xid != 0) {
    std::shared_ptr<multiplexed_exec> x;
    {
      std::lock_guard<std::mutex> g{mtx_};
      auto i = running_.find(f.xid);
      if (i == running_.end()) return;  // abandoned: dropped
      x = i->second;
    }
    if (x->deliver(f)) {
      {
        std::lock_guard<std::mutex> g{mtx_};
        running_.erase(f.xid);
      }
      admit();
    }
    return;
  }
  // The agent's own words: for everyone running on it.
  std::string msg;
  int level = 4;
  if (f.t == frame_type::log && f.l) {
    msg = f.l->msg;
    for (auto& a : f.l->a) msg += " " + a;
    level = static_cast<int>(f.l->lvl);
  } else if (f.t == frame_type::error) {
    msg = "agent error: " + f.e;
    level = 8;
  } else {
    return;
  }
  std::vector<std::shared_ptr<multiplexed_exec>> all;
  {
    std::lock_guard<std::mutex> g{mtx_};
    for (auto& [xid, x] : running_) all.push_back(x);
  }
  for (auto& x : all) x->log(level, msg);
}

void agent_link::raw_exit(const exit_status& st) {
  bool was_multi = false;
  {
    std::lock_guard<std::mutex> g{mtx_};
    was_multi = state_ == state::multi || !running_.empty();
  }
  if (was_multi)
    // A channel that failed says why in its own words ("connection lost:
    // …"), as the seed's channel passes it on; an agent that ended by
    // itself is said here.
    end_all(st.kind == exit_status::kind_t::failed
                ? exit_status::failed_with(failure_kind::lost, 255, st.message)
                : exit_status::failed_with(
                      failure_kind::lost, 255,
                      "the agent on " + host_ + " ended (" + describe(st) +
                          "): the command's fate is unknown"));
  else
    end_all(st.kind == exit_status::kind_t::failed
                ? st
                : exit_status::failed_with(failure_kind::agent, 255,
                                           "the agent on " + host_ +
                                               " ended before it answered (" +
                                               describe(st) + ")"));
  if (ev_.ended) ev_.ended(this);
}

void agent_link::end_all(const exit_status& st) {
  std::map<std::uint32_t, std::shared_ptr<multiplexed_exec>> running;
  std::deque<std::shared_ptr<multiplexed_exec>> waiting;
  {
    std::lock_guard<std::mutex> g{mtx_};
    state_ = state::ended;
    running.swap(running_);
    waiting.swap(waiting_);
    raw_done_ = true;
    raw_.reset();
  }
  for (auto& [xid, x] : running) x->end(st);
  // Those that never reached the agent did not run: not "lost".
  for (auto& x : waiting)
    x->end(
        st.failure == failure_kind::lost
            ? exit_status::failed_with(
                  failure_kind::agent, 255,
                  "the agent on " + host_ + " ended before the command started")
            : st);
}

}  // namespace remex::transport
