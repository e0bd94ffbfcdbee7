#include "transport/ssh/ssh_provider.hpp"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>  // ssh_send_keepalive lives here in 0.10
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <deque>
#include <mutex>
#include <thread>

#include "transport/poll_loop.hpp"
#include "transport/ssh/ssh_signals.hpp"

namespace remex::transport {

namespace {

using clock = std::chrono::steady_clock;

// Large reads keep the per-call overhead small next to decryption.
constexpr std::size_t read_chunk = 256 * 1024;

struct conn;

// One exec request, from the queue to its exit. Loop thread only.
struct chan {
  enum class st { queued, opening, env, exec, running, done };
  st state = st::queued;
  std::string line;
  std::vector<std::string> env;
  std::size_t env_i = 0;
  std::shared_ptr<channel_listener> listener;
  conn* c = nullptr;
  ssh_channel ch = nullptr;
  ssh_channel_callbacks_struct cbs{};
  // Per output stream (stdout, stderr): bytes taken from libssh but not yet
  // handed to the listener, bytes handed over but not yet consumed, and
  // whether libssh reported the stream's end / the listener was told.
  std::string pending[2];
  std::size_t pending_off[2] = {0, 0};
  std::size_t unconsumed[2] = {0, 0};
  bool eof_read[2] = {false, false};
  bool eof[2] = {false, false};
  std::deque<std::string> in;  // stdin not yet accepted by the channel
  std::size_t in_off = 0;
  bool close_in = false;
  bool in_closed = false;
  std::vector<int> signals;
  bool terminating = false;
  clock::time_point kill_deadline;
  bool remote_eof = false;  // the server sent EOF (data may still be buffered)
  bool got_status = false;
  int status = 0;
  bool got_signal = false;
  int sig = 0;
  bool core = false;
};

// One libssh session. Loop thread only.
struct conn {
  ssh_session s = nullptr;
  ssh_event ev = nullptr;
  std::uint64_t watch = 0;
  std::size_t capacity = SIZE_MAX;  // learned from refused channel opens
  std::vector<std::shared_ptr<chan>> chans;
  clock::time_point last_rx;
  clock::time_point last_probe;
};

// ssh_channel_is_eof stays false while data is buffered; this does not.
void on_remote_eof(ssh_session, ssh_channel, void* user) {
  static_cast<chan*>(user)->remote_eof = true;
}

void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
  auto* c = static_cast<chan*>(user);
  c->got_status = true;
  c->status = status;
}

void on_exit_signal(ssh_session, ssh_channel, const char* name, int core,
                    const char*, const char*, void* user) {
  auto* c = static_cast<chan*>(user);
  c->got_signal = true;
  c->sig = signal_number(name);
  c->core = core != 0;
}

}  // namespace

class ssh_core : public std::enable_shared_from_this<ssh_core> {
 public:
  ssh_core(std::string display, ssh_options opts)
      : display_(std::move(display)), opts_(std::move(opts)) {
    target_ok_ = parse_ssh_target(display_, target_);
    loop_ = poll_loop::make();
  }

  void start() {
    auto self = shared_from_this();
    loop_->post([self] { self->tick(); });
  }

  void shutdown() {
    stopping_ = true;
    auto self = shared_from_this();
    loop_->post([self] {
      while (!self->conns_.empty())
        self->drop_conn(self->conns_.front().get(),
                        self->fail(failure_kind::lost, "provider closed"));
      for (auto& q : self->pending_)
        self->finish(q, self->fail(failure_kind::lost, "provider closed"));
      self->pending_.clear();
      self->loop_->stop();
    });
  }

  void post(std::function<void()> f) { loop_->post(std::move(f)); }

  exit_status fail(failure_kind k, const std::string& what) const {
    return exit_status::failed_with(k, 255, "remex: " + display_ + ": " + what);
  }

  void submit(std::shared_ptr<chan> c) {
    if (!target_ok_) {
      finish(c, fail(failure_kind::connect, "not a valid ssh target"));
      return;
    }
    pending_.push_back(std::move(c));
    dispatch();
  }

  // Runs one channel's state machine as far as it goes without blocking.
  void step(const std::shared_ptr<chan>& c) {
    int rc;
    switch (c->state) {
      case chan::st::queued:
      case chan::st::done:
        return;
      case chan::st::opening:
        rc = ssh_channel_open_session(c->ch);
        if (rc == SSH_AGAIN) return;
        if (rc != SSH_OK) return open_failed(c);
        c->state = chan::st::env;
        [[fallthrough]];
      case chan::st::env:
        while (c->env_i < c->env.size()) {
          auto& kv = c->env[c->env_i];
          auto eq = kv.find('=');
          auto k = kv.substr(0, eq);
          auto v = eq == std::string::npos ? std::string{} : kv.substr(eq + 1);
          rc = ssh_channel_request_env(c->ch, k.c_str(), v.c_str());
          if (rc == SSH_AGAIN) return;
          // A refused variable (AcceptEnv) is not fatal, as with ssh(1).
          ++c->env_i;
        }
        c->state = chan::st::exec;
        [[fallthrough]];
      case chan::st::exec:
        rc = ssh_channel_request_exec(c->ch, c->line.c_str());
        if (rc == SSH_AGAIN) return;
        if (rc != SSH_OK) {
          finish(c, fail(failure_kind::spawn, std::string{"exec refused: "} +
                                                  ssh_get_error(c->c->s)));
          return;
        }
        c->state = chan::st::running;
        [[fallthrough]];
      case chan::st::running:
        io(c);
    }
  }

  void tick() {
    if (stopping_) return;
    auto now = clock::now();
    auto interval =
        std::chrono::seconds(std::max(1, opts_.keepalive_interval_s));
    for (std::size_t i = 0; i < conns_.size();) {
      auto* c = conns_[i].get();
      // Replies to our probes count as traffic; silence past the budget
      // means the peer is gone even when TCP has not noticed yet.
      if (now - c->last_rx > interval * (opts_.keepalive_count_max + 2)) {
        drop_conn(c, fail(failure_kind::lost,
                          "connection lost (no reply to "
                          "keepalives)"));
        continue;
      }
      if (now - c->last_rx >= interval && now - c->last_probe >= interval) {
        ssh_send_keepalive(c->s);
        c->last_probe = now;
      }
      for (auto ch : std::vector<std::shared_ptr<chan>>(c->chans))
        if (ch->terminating && now >= ch->kill_deadline)
          finish(ch, ch->got_signal ? exit_status::killed_by(ch->sig, ch->core)
                     : ch->got_status ? exit_status::exited_with(ch->status)
                                      : exit_status::killed_by(SIGKILL));
      ++i;
    }
    auto self = shared_from_this();
    loop_->after(std::chrono::milliseconds(250), [self] { self->tick(); });
  }

  void finish(const std::shared_ptr<chan>& c, exit_status st) {
    if (c->state == chan::st::done) return;
    c->state = chan::st::done;
    if (c->ch != nullptr) {
      if (c->c && ssh_is_connected(c->c->s)) ssh_channel_close(c->ch);
      ssh_channel_free(c->ch);
      c->ch = nullptr;
    }
    if (c->c != nullptr) {
      auto& v = c->c->chans;
      v.erase(std::remove(v.begin(), v.end(), c), v.end());
      c->c = nullptr;
    }
    auto l = std::move(c->listener);
    if (l) l->on_exit(std::move(st));
    if (!stopping_) dispatch();
  }

  ssh_link_info info() {
    std::lock_guard<std::mutex> g{info_mtx_};
    return info_;
  }

  connect_result connect_now() {
    if (!target_ok_) {
      connect_result r;
      r.failure = fail(failure_kind::connect, "not a valid ssh target");
      return r;
    }
    return connect_ssh(target_, opts_, display_);
  }

  const std::string& display() const { return display_; }

  std::mutex cache_mtx;
  std::set<std::string> cache;

 private:
  void io(const std::shared_ptr<chan>& c) {
    for (int s : c->signals)
      if (const char* name = signal_name(s))
        ssh_channel_request_send_signal(c->ch, name);
    c->signals.clear();

    std::size_t drained = 0;
    while (!c->in.empty()) {
      auto& b = c->in.front();
      int n =
          ssh_channel_write(c->ch, b.data() + c->in_off,
                            static_cast<std::uint32_t>(b.size() - c->in_off));
      if (n <= 0) break;
      drained += static_cast<std::size_t>(n);
      c->in_off += static_cast<std::size_t>(n);
      if (c->in_off == b.size()) {
        c->in.pop_front();
        c->in_off = 0;
      }
    }
    if (c->in.empty() && c->close_in && !c->in_closed) {
      ssh_channel_send_eof(c->ch);
      c->in_closed = true;
    }
    if (drained > 0 && c->listener) c->listener->on_drained(0, drained);
    if (c->state == chan::st::done) return;

    // libssh 0.10 re-opens the channel window to ~1.2 MB on every read,
    // however much it still holds unread, so reading only as credit allows
    // would let the server fill libssh's buffer without bound under a slow
    // consumer. Instead, read from libssh only once everything read before
    // went to the listener, and then take all it holds: libssh never holds
    // more than one window, the sshd stops the writer, and memory stays
    // bounded by two windows plus the credit per stream.
    deliver(c);
    if (c->state == chan::st::done) return;
    if (c->pending[0].empty() && c->pending[1].empty()) {
      bool got = false, held = false;
      for (int i = 0; i < 2; ++i) got = take(c, i, held) || got;
      // A later poll (the other stream's) may have taken in the remote EOF:
      // then nothing more arrives to wake us, so take what was held now.
      if (held && c->remote_eof)
        for (int i = 0; i < 2; ++i) got = take(c, i, held) || got;
      if (got) deliver(c);
      if (c->state == chan::st::done) return;
    }
    if (c->eof[0] && c->eof[1] && ssh_channel_is_closed(c->ch)) {
      if (c->got_signal)
        finish(c, exit_status::killed_by(c->sig, c->core));
      else if (c->got_status)
        finish(c, exit_status::exited_with(c->status));
      else if (c->terminating)
        finish(c, exit_status::killed_by(SIGKILL));
      else
        finish(c, fail(failure_kind::lost,
                       "channel closed without an exit "
                       "status"));
    }
  }

  // Moves what libssh buffered for stream i into pending: exactly what it
  // holds now (a read may let more in, which waits for the next round).
  // While the consumer still works on earlier data, less than a chunk is
  // left to gather: each delivery costs the actors a few thread handoffs.
  bool take(const std::shared_ptr<chan>& c, int i, bool& held) {
    if (c->eof_read[i]) return false;
    int avail = ssh_channel_poll(c->ch, i);
    if (avail == SSH_EOF) {
      c->eof_read[i] = true;
      return true;
    }
    if (avail <= 0) return false;
    if (c->unconsumed[i] > 0 && static_cast<std::size_t>(avail) < read_chunk &&
        !c->remote_eof) {
      held = true;
      return false;
    }
    auto& p = c->pending[i];
    auto want = static_cast<std::size_t>(avail);
    p.reserve(want);
    while (p.size() < want) {
      auto room = std::min(want - p.size(), scratch_.size());
      // Into scratch, not a resized string: zero-filling `room` bytes for
      // each packet of ~32 KiB cost more than the copy.
      int n = ssh_channel_read_nonblocking(c->ch, scratch_.data(),
                                           static_cast<std::uint32_t>(room), i);
      if (n <= 0) {
        c->eof_read[i] = n == SSH_EOF;
        break;
      }
      p.append(scratch_.data(), static_cast<std::size_t>(n));
    }
    return true;
  }

  // Hands pending bytes to the listener as far as its credit goes, in
  // pieces of at most a chunk; then the end of a stream that is all read.
  void deliver(const std::shared_ptr<chan>& c) {
    for (int i = 0; i < 2; ++i) {
      auto& p = c->pending[i];
      auto& off = c->pending_off[i];
      while (off < p.size() && c->unconsumed[i] < default_window) {
        auto n = std::min(
            {p.size() - off, default_window - c->unconsumed[i], read_chunk});
        c->unconsumed[i] += n;
        std::string piece;
        if (off == 0 && n == p.size()) {
          piece.swap(p);
        } else {
          piece = p.substr(off, n);
          off += n;
        }
        c->listener->on_data(i + 1, std::move(piece));
        if (c->state == chan::st::done) return;
      }
      if (off >= p.size()) {
        p.clear();
        off = 0;
        if (!c->eof_read[i] && ssh_channel_poll(c->ch, i) == SSH_EOF)
          c->eof_read[i] = true;
        if (c->eof_read[i] && !c->eof[i]) {
          c->eof[i] = true;
          c->listener->on_eof(i + 1);
          if (c->state == chan::st::done) return;
        }
      }
    }
  }

  void open_failed(const std::shared_ptr<chan>& c) {
    auto* cn = c->c;
    std::string why = ssh_get_error(cn->s);
    std::size_t open = 0;
    for (auto& o : cn->chans)
      if (o != c && o->state > chan::st::opening) ++open;
    ssh_channel_free(c->ch);
    c->ch = nullptr;
    auto& v = cn->chans;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    c->c = nullptr;
    if (!ssh_is_connected(cn->s)) {
      c->state = chan::st::queued;
      pending_.push_front(c);
      return;  // the connection's own failure is handled by pump
    }
    if (open > 0) {
      // The server's MaxSessions: this connection is full, not broken.
      cn->capacity = open;
      c->state = chan::st::queued;
      pending_.push_front(c);
      dispatch();
      return;
    }
    finish(c, fail(failure_kind::connect, "cannot open a session: " + why));
  }

  void dispatch() {
    while (!pending_.empty()) {
      conn* best = nullptr;
      for (auto& c : conns_)
        if (c->chans.size() < c->capacity) {
          best = c.get();
          break;
        }
      if (best == nullptr) {
        if (connecting_ == 0 &&
            conns_.size() < static_cast<std::size_t>(opts_.max_connections))
          start_connect();
        return;
      }
      auto c = pending_.front();
      pending_.pop_front();
      if (c->terminating) {
        finish(c, exit_status::killed_by(SIGKILL));
        continue;
      }
      c->c = best;
      c->ch = ssh_channel_new(best->s);
      ssh_callbacks_init(&c->cbs);
      c->cbs.userdata = c.get();
      c->cbs.channel_exit_status_function = on_exit_status;
      c->cbs.channel_eof_function = on_remote_eof;
      c->cbs.channel_exit_signal_function = on_exit_signal;
      ssh_set_channel_callbacks(c->ch, &c->cbs);
      c->state = chan::st::opening;
      best->chans.push_back(c);
      step(c);
    }
  }

  void start_connect() {
    ++connecting_;
    auto self = shared_from_this();
    std::thread([self] {
      auto r = connect_ssh(self->target_, self->opts_, self->display_);
      if (self->stopping_) {
        if (r.session) ssh_free(r.session);
        return;
      }
      self->loop_->post([self, r]() mutable { self->connected(r); });
    }).detach();
  }

  void connected(connect_result& r) {
    --connecting_;
    if (stopping_) {
      if (r.session) ssh_free(r.session);
      return;
    }
    if (r.session == nullptr) {
      // Nothing will serve the queue if no connection is up: fail it now.
      if (conns_.empty()) {
        auto q = std::move(pending_);
        pending_.clear();
        for (auto& c : q) finish(c, r.failure);
      }
      return;
    }
    auto cn = std::make_unique<conn>();
    cn->s = r.session;
    ssh_set_blocking(cn->s, 0);
    cn->ev = ssh_event_new();
    ssh_event_add_session(cn->ev, cn->s);
    cn->last_rx = cn->last_probe = clock::now();
    auto* raw = cn.get();
    cn->watch = loop_->watch(
        ssh_get_fd(cn->s),
        [raw] {
          short ev = POLLIN;
          if (ssh_get_poll_flags(raw->s) & SSH_WRITE_PENDING) ev |= POLLOUT;
          return ev;
        },
        [this, raw](short revents) {
          if (revents & (POLLIN | POLLHUP | POLLERR))
            raw->last_rx = clock::now();
          pump(raw);
        });
    {
      std::lock_guard<std::mutex> g{info_mtx_};
      const char* in = ssh_get_cipher_in(cn->s);
      const char* out = ssh_get_cipher_out(cn->s);
      info_.cipher_in = in ? in : "";
      info_.cipher_out = out ? out : "";
      ++info_.connections;
    }
    conns_.push_back(std::move(cn));
    dispatch();
  }

  bool alive(conn* c) {
    return std::any_of(conns_.begin(), conns_.end(),
                       [c](auto& p) { return p.get() == c; });
  }

 public:
  void pump(conn* c) {
    int rc = ssh_event_dopoll(c->ev, 0);
    if (rc == SSH_ERROR || !ssh_is_connected(c->s) ||
        (ssh_get_status(c->s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
      drop_conn(c, fail(failure_kind::lost, std::string{"connection lost: "} +
                                                ssh_get_error(c->s)));
      return;
    }
    for (auto ch : std::vector<std::shared_ptr<chan>>(c->chans)) {
      step(ch);
      if (!alive(c)) return;
    }
  }

  void pump_chan(const std::shared_ptr<chan>& c) {
    if (c->c == nullptr) return;
    conn* cn = c->c;
    step(c);
    // Writes may have left output in libssh's buffer; push it now.
    if (alive(cn) && (ssh_get_poll_flags(cn->s) & SSH_WRITE_PENDING))
      ssh_blocking_flush(cn->s, 0);
  }

 private:
  void drop_conn(conn* c, exit_status why) {
    for (auto ch : std::vector<std::shared_ptr<chan>>(c->chans)) {
      if (ch->state <= chan::st::env) {
        // Nothing ran yet: another connection may still serve it.
        if (ch->ch) ssh_channel_free(ch->ch);
        ch->ch = nullptr;
        ch->c = nullptr;
        ch->state = chan::st::queued;
        ch->env_i = 0;
        pending_.push_back(ch);
      } else {
        ch->c = nullptr;  // the session is gone; skip the close
        if (ch->ch) ssh_channel_free(ch->ch);
        ch->ch = nullptr;
        finish(ch, why);
      }
    }
    c->chans.clear();
    loop_->unwatch(c->watch);
    ssh_event_remove_session(c->ev, c->s);
    ssh_event_free(c->ev);
    ssh_disconnect(c->s);
    ssh_free(c->s);
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                [c](auto& p) { return p.get() == c; }),
                 conns_.end());
    if (!stopping_) dispatch();
  }

  std::string display_;
  ssh_options opts_;
  ssh_target target_;
  bool target_ok_ = false;
  std::shared_ptr<poll_loop> loop_;
  std::vector<char> scratch_ = std::vector<char>(read_chunk);  // I/O thread
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<conn>> conns_;
  std::deque<std::shared_ptr<chan>> pending_;
  int connecting_ = 0;
  std::mutex info_mtx_;
  ssh_link_info info_;
};

namespace {

class ssh_exec_channel : public exec_channel {
 public:
  ssh_exec_channel(std::shared_ptr<ssh_core> core, std::shared_ptr<chan> c)
      : core_(std::move(core)), c_(std::move(c)) {}

  void write(std::uint32_t s, std::string bytes) override {
    if (s != 0) return;  // extra fds need the agent backend
    run([bytes = std::move(bytes)](chan& c) mutable {
      if (!c.close_in && !bytes.empty()) c.in.push_back(std::move(bytes));
    });
  }

  void close_stream(std::uint32_t s) override {
    if (s != 0) return;
    run([](chan& c) { c.close_in = true; });
  }

  // Once the command has exited, sshd has nobody to signal; what holds the
  // channel open is what the command left behind, and a signal means the
  // requester stops waiting for it: the channel is given up after a grace
  // (its orphan guard kills the group when the connection goes).
  void signal(int signo) override {
    run([signo](chan& c) {
      c.signals.push_back(signo);
      if ((c.got_status || c.got_signal) && !c.terminating) {
        c.terminating = true;
        c.close_in = true;
        c.kill_deadline = clock::now() + std::chrono::seconds(1);
      }
    });
  }

  void consumed(std::uint32_t s, std::size_t n) override {
    if (s != 1 && s != 2) return;
    run([s, n](chan& c) {
      auto& u = c.unconsumed[s - 1];
      u -= std::min(u, n);
    });
  }

  // ssh cannot kill a process group by itself: SIGKILL goes to the session's
  // process group through sshd, and the channel is given up shortly after
  // even if the remote end never answers.
  void terminate() override {
    run([](chan& c) {
      if (c.terminating) return;
      c.terminating = true;
      c.signals.push_back(SIGKILL);
      c.close_in = true;
      c.kill_deadline = clock::now() + std::chrono::seconds(2);
    });
  }

 private:
  template <class F>
  void run(F f) {
    auto core = core_;
    auto c = c_;
    core->post([core, c, f = std::move(f)]() mutable {
      if (c->state == chan::st::done) return;
      f(*c);
      core->pump_chan(c);
    });
  }

  std::shared_ptr<ssh_core> core_;
  std::shared_ptr<chan> c_;
};

class ssh_provider : public session_provider {
 public:
  ssh_provider(std::string target, ssh_options opts)
      : core_(std::make_shared<ssh_core>(std::move(target), std::move(opts))) {
    core_->start();
  }
  ~ssh_provider() override { core_->shutdown(); }

  std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener) override {
    auto c = std::make_shared<chan>();
    c->line = std::move(command_line);
    c->env = std::move(env);
    c->listener = std::move(listener);
    auto core = core_;
    auto ch = std::make_shared<ssh_exec_channel>(core_, c);
    core->post([core, c, ch] {
      c->listener->on_open(ch);
      core->submit(c);
    });
    return ch;
  }

  std::string host() const override { return core_->display(); }

  std::shared_ptr<ssh_core> core_;
};

ssh_core& core_of(session_provider& p) {
  return *dynamic_cast<ssh_provider&>(p).core_;
}

}  // namespace

std::shared_ptr<session_provider> make_ssh_provider(std::string target,
                                                    ssh_options opts) {
  return std::make_shared<ssh_provider>(std::move(target), std::move(opts));
}

ssh_link_info describe_link(session_provider& p) {
  return core_of(p).info();
}

connect_result connect_like(session_provider& p) {
  return core_of(p).connect_now();
}

bool remembered(session_provider& p, const std::string& key) {
  auto& c = core_of(p);
  std::lock_guard<std::mutex> g{c.cache_mtx};
  return c.cache.count(key) > 0;
}

void remember(session_provider& p, const std::string& key) {
  auto& c = core_of(p);
  std::lock_guard<std::mutex> g{c.cache_mtx};
  c.cache.insert(key);
}

}  // namespace remex::transport
