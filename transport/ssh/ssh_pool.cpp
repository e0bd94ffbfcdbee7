#include "transport/ssh/ssh_pool.hpp"

#include <libssh/server.h>  // ssh_send_keepalive lives here in 0.10
#include <poll.h>

#include <algorithm>
#include <csignal>
#include <thread>

namespace remex::transport::ssh {

namespace {

// Tries of an open the server refused right after a channel closed, and
// the pause between them: a second in all.
constexpr int max_refusals = 20;
constexpr std::chrono::milliseconds refusal_pause{50};

// Fresh connections a channel gets when the one it was placed on dies
// before its exec is accepted; after that the connection's error stands.
constexpr int max_rewinds = 1;

}  // namespace

pool::pool(std::string display, config::ssh_options opts)
    : display_(std::move(display)), opts_(std::move(opts)) {
  target_ok_ = parse_ssh_target(display_, target_);
  loop_ = poll_loop::make();
}

void pool::start() {
  auto self = shared_from_this();
  loop_->post([self] { self->tick(); });
}

void pool::shutdown() {
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

std::shared_ptr<exec_channel> pool::open_exec(
    std::string command_line, std::vector<std::string> env,
    std::shared_ptr<channel_listener> listener) {
  auto c = std::make_shared<chan>();
  c->command_line = std::move(command_line);
  c->env = std::move(env);
  c->listener = std::move(listener);
  auto self = shared_from_this();
  auto ch = make_exec_channel(self, c);
  post([self, c, ch] {
    c->listener->on_open(ch);
    self->submit(c);
  });
  return ch;
}

ssh_link_info pool::info() {
  std::lock_guard<std::mutex> g{info_mtx_};
  return info_;
}

host_status pool::status() {
  std::lock_guard<std::mutex> g{info_mtx_};
  return status_;
}

void pool::watch_connections(connection_watcher w) {
  std::lock_guard<std::mutex> g{info_mtx_};
  watcher_ = std::move(w);
}

void pool::update_status() {
  std::size_t channels = 0;
  for (auto& c : conns_) channels += c->chans.size();
  std::lock_guard<std::mutex> g{info_mtx_};
  status_.connections = conns_.size();
  status_.channels = channels;
  status_.queued = pending_.size();
}

void pool::tell_watcher(bool up, const std::string& why) {
  connection_watcher w;
  {
    std::lock_guard<std::mutex> g{info_mtx_};
    if (up)
      ++status_.opened;
    else
      ++status_.lost;
    w = watcher_;
  }
  if (w) w(up, why);
}

connect_result pool::connect_now() const {
  if (!target_ok_) {
    connect_result r;
    r.failure = fail(failure_kind::connect, "not a valid ssh target");
    return r;
  }
  return connect_ssh(target_, opts_, display_);
}

void pool::post(std::function<void()> f) {
  loop_->post(std::move(f));
}

exit_status pool::fail(failure_kind k, const std::string& what) const {
  return exit_status::failed_with(k, 255, what);
}

void pool::submit(chan_ptr c) {
  if (!target_ok_) {
    finish(c, fail(failure_kind::connect, "not a valid ssh target"));
    return;
  }
  c->seq = ++submitted_;
  pending_.push_back(std::move(c));
  dispatch();
}

void pool::tick() {
  if (stopping_) return;
  auto now = clock::now();
  auto interval = std::chrono::seconds(std::max(1, opts_.keepalive_interval_s));
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
      ssh_send_keepalive(c->session);
      c->last_probe = now;
    }
    for (auto ch : std::vector<chan_ptr>(c->chans)) expire(*this, ch, now);
    ++i;
  }
  settle();
  auto self = shared_from_this();
  loop_->after(std::chrono::milliseconds(250), [self] { self->tick(); });
}

void pool::finish(const chan_ptr& c, exit_status st) {
  if (!close_chan(*c)) return;
  if (auto* cn = conn_of(*c)) {
    auto& v = cn->chans;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
    cn->last_close = clock::now();
  }
  c->session = nullptr;
  report_exit(*c, std::move(st));
  if (!stopping_)
    dispatch();
  else
    update_status();
}

void pool::open_failed(const chan_ptr& c) {
  auto* cn = conn_of(*c);
  std::string why = ssh_get_error(cn->session);
  // Every other channel placed here counts, opening ones too: libssh may
  // have read their confirmations (and this refusal after them) before
  // the pool stepped them, so their phase lags what the server granted.
  // Counting only confirmed ones took a full connection for a broken one
  // when many opened at once on a slow machine (20 at MaxSessions 10).
  std::size_t open = 0;
  for (auto& o : cn->chans)
    if (o != c) ++open;
  auto& v = cn->chans;
  v.erase(std::remove(v.begin(), v.end(), c), v.end());
  drop_handle(*c);
  if (open > 0) {
    // The server's MaxSessions: this connection is full, not broken.
    cn->capacity = open;
    {
      std::lock_guard<std::mutex> g{info_mtx_};
      status_.max_sessions = open;
    }
    c->state = chan::phase::queued;
    pending_.push_front(c);
    dispatch();
    return;
  }
  // A channel that closed just now may still hold its session on the
  // server (MaxSessions 1: the agent check, then the command): the slot
  // frees once the server has the close, so try again shortly.
  if (c->refusals < max_refusals &&
      clock::now() - cn->last_close < std::chrono::seconds(2)) {
    ++c->refusals;
    c->state = chan::phase::queued;
    pending_.push_front(c);
    auto self = shared_from_this();
    loop_->after(refusal_pause, [self] {
      if (!self->stopping_) self->dispatch();
    });
    update_status();
    return;
  }
  finish(c, fail(failure_kind::connect, "cannot open a session: " + why));
}

void pool::conn_lost(const chan_ptr& c) {
  auto* cn = conn_of(*c);
  if (cn == nullptr) {
    finish(c, fail(failure_kind::connect, "connection lost"));
    return;
  }
  // Now, not at the next poll: libssh may have closed the socket already,
  // and until the connection is gone dispatch would place c on it again.
  drop_conn(cn, fail(failure_kind::lost, std::string{"connection lost: "} +
                                             ssh_get_error(cn->session)));
}

void pool::dispatch() {
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
      break;
    }
    auto c = pending_.front();
    pending_.pop_front();
    if (c->terminating) {
      finish(c, exit_status::killed_by(SIGKILL));
      continue;
    }
    begin_open(*c, best->session);
    best->chans.push_back(c);
    step(*this, c);
  }
  settle();
  update_status();
}

void pool::start_connect() {
  ++connecting_;
  auto self = shared_from_this();
  std::thread([self, cutoff = submitted_] {
    auto r = connect_ssh(self->target_, self->opts_, self->display_);
    if (self->stopping_) {
      if (r.session) ssh_free(r.session);
      return;
    }
    self->loop_->post(
        [self, r, cutoff]() mutable { self->connected(r, cutoff); });
  }).detach();
}

void pool::connected(connect_result& r, std::uint64_t cutoff) {
  --connecting_;
  if (stopping_) {
    if (r.session) ssh_free(r.session);
    return;
  }
  // The commands waiting for this connection tell their requesters.
  for (auto& line : r.notices) {
    for (auto& c : pending_) c->listener->on_notice(line);
    if (pending_.empty()) connect_notice(line);
  }
  if (r.session == nullptr) {
    // Nothing will serve the queue if no connection is up: fail what this
    // attempt was made for. Channels queued while it ran get one of their
    // own: the attempt's timeout was its first requester's, not theirs
    // (a `-t 3` run after one that gave up at its deadline would otherwise
    // fail a second in, with the old attempt's "Timeout connecting").
    if (conns_.empty()) {
      std::deque<chan_ptr> failed, later;
      for (auto& c : pending_) (c->seq <= cutoff ? failed : later).push_back(c);
      pending_ = std::move(later);
      for (auto& c : failed) finish(c, r.failure);
      if (!pending_.empty() && !stopping_) dispatch();
    }
    return;
  }
  auto cn = std::make_unique<conn>();
  cn->session = r.session;
  ssh_set_blocking(cn->session, 0);
  cn->event = ssh_event_new();
  ssh_event_add_session(cn->event, cn->session);
  cn->last_rx = cn->last_probe = clock::now();
  auto* raw = cn.get();
  cn->watch = loop_->watch(
      ssh_get_fd(cn->session),
      [raw] {
        short ev = POLLIN;
        if (ssh_get_poll_flags(raw->session) & SSH_WRITE_PENDING) ev |= POLLOUT;
        return ev;
      },
      [this, raw](short revents) {
        if (revents & (POLLIN | POLLHUP | POLLERR)) raw->last_rx = clock::now();
        pump(raw);
      });
  {
    std::lock_guard<std::mutex> g{info_mtx_};
    const char* in = ssh_get_cipher_in(cn->session);
    const char* out = ssh_get_cipher_out(cn->session);
    info_.cipher_in = in ? in : "";
    info_.cipher_out = out ? out : "";
    ++info_.connections;
  }
  conns_.push_back(std::move(cn));
  tell_watcher(true, {});
  dispatch();
}

bool pool::alive(conn* c) const {
  return std::any_of(conns_.begin(), conns_.end(),
                     [c](auto& p) { return p.get() == c; });
}

conn* pool::conn_of(const chan& c) const {
  if (c.session == nullptr) return nullptr;
  for (auto& p : conns_)
    if (p->session == c.session) return p.get();
  return nullptr;
}

void pool::pump(conn* c) {
  // libssh 0.10 takes at most 4 KiB from the socket per poll: while it keeps
  // finding data, let it read on before the channels step, so that what
  // they hand on comes in larger pieces (each costs the actors a thread
  // handoff) instead of about one packet per trip through our poll loop.
  // Bounded, so that other connections and posted work wait at most this
  // many reads; libssh still holds at most one channel window.
  constexpr int max_reads_per_pump = 32;
  int rc = ssh_event_dopoll(c->event, 0);
  for (int i = 1; rc == SSH_OK && i < max_reads_per_pump; ++i)
    rc = ssh_event_dopoll(c->event, 0);
  if (rc == SSH_ERROR || !ssh_is_connected(c->session) ||
      (ssh_get_status(c->session) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
    drop_conn(c, fail(failure_kind::lost, std::string{"connection lost: "} +
                                              ssh_get_error(c->session)));
    return;
  }
  for (auto ch : std::vector<chan_ptr>(c->chans)) {
    step(*this, ch);
    if (!alive(c)) return;
  }
  settle();
}

void pool::pump_chan(const chan_ptr& c) {
  conn* cn = conn_of(*c);
  if (cn == nullptr) {
    // Killed while it waits for a connection: no remote process to wait
    // for, and the attempt it waits on may outlast any deadline.
    if (c->state == chan::phase::queued && c->terminating) {
      auto i = std::find(pending_.begin(), pending_.end(), c);
      if (i != pending_.end()) {
        pending_.erase(i);
        finish(c, exit_status::killed_by(SIGKILL));
      }
    }
    return;
  }
  step(*this, c);
  // Writes may have left output in libssh's buffer; push it now.
  if (alive(cn) && (ssh_get_poll_flags(cn->session) & SSH_WRITE_PENDING))
    ssh_blocking_flush(cn->session, 0);
  settle();
}

void pool::settle() {
  // Bounded: while data keeps arriving this could go on; the rest is done
  // after whatever else waits on the loop.
  for (int round = 0; round < 16; ++round) {
    bool any = false;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      auto* cn = conns_[i].get();
      for (auto ch : std::vector<chan_ptr>(cn->chans)) {
        if (!ch->stirred || ch->state == chan::phase::done) continue;
        any = true;
        step(*this, ch);
        if (!alive(cn)) break;
      }
    }
    if (!any) return;
  }
  auto self = shared_from_this();
  post([self] { self->settle(); });
}

void pool::drop_conn(conn* c, exit_status why) {
  for (auto ch : std::vector<chan_ptr>(c->chans)) {
    if (ch->state < chan::phase::running &&
        (stopping_ || ch->rewinds < max_rewinds)) {
      // Its exec was not accepted, so nothing ran yet: another connection
      // may still serve it.
      rewind(*ch);
      pending_.push_back(ch);
    } else if (ch->state < chan::phase::running) {
      drop_handle(*ch);
      finish(ch, fail(failure_kind::connect, why.message));
    } else {
      drop_handle(*ch);  // the session is gone; skip the close
      finish(ch, why);
    }
  }
  c->chans.clear();
  loop_->unwatch(c->watch);
  ssh_event_remove_session(c->event, c->session);
  ssh_event_free(c->event);
  ssh_disconnect(c->session);
  ssh_free(c->session);
  conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                              [c](auto& p) { return p.get() == c; }),
               conns_.end());
  // Closed by us (the provider ends, or an idle close) is no loss.
  if (!stopping_) tell_watcher(false, why.message);
  if (!stopping_)
    dispatch();
  else
    update_status();
}

}  // namespace remex::transport::ssh
