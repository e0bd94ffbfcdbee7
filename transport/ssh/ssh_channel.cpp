#include "transport/ssh/ssh_channel.hpp"

#include <algorithm>
#include <csignal>

#include "transport/ssh/ssh_signals.hpp"

namespace remex::transport::ssh {

namespace {

// Data stays in libssh's buffer (0 bytes taken): the channel reads it when
// stepped. The callback only notes that there is something to step for.
int on_data(ssh_session, ssh_channel, void*, std::uint32_t, int, void* user) {
  static_cast<chan*>(user)->stirred = true;
  return 0;
}

// ssh_channel_is_eof stays false while data is buffered; this does not.
void on_remote_eof(ssh_session, ssh_channel, void* user) {
  auto* c = static_cast<chan*>(user);
  c->remote_eof = true;
  c->stirred = true;
}

void on_close(ssh_session, ssh_channel, void* user) {
  static_cast<chan*>(user)->stirred = true;
}

void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
  auto* c = static_cast<chan*>(user);
  c->got_exit_status = true;
  c->exit_code = status;
  c->stirred = true;
}

void on_exit_signal(ssh_session, ssh_channel, const char* name, int core,
                    const char*, const char*, void* user) {
  auto* c = static_cast<chan*>(user);
  c->got_exit_signal = true;
  c->exit_signal = signal_number(name);
  c->core_dumped = core != 0;
  c->stirred = true;
}

// Moves what libssh buffered for stream i into pending: exactly what it
// holds now (a read may let more in, which waits for the next round).
// While the consumer still works on earlier data, less than a chunk is
// left to gather: each delivery costs the actors a few thread handoffs.
bool take(chan_owner& owner, const chan_ptr& c, int i, bool& held) {
  if (c->output[i] != output_state::reading) return false;
  int avail = ssh_channel_poll(c->handle, i);
  if (avail == SSH_EOF) {
    c->output[i] = output_state::eof_read;
    return true;
  }
  if (avail <= 0) return false;
  if (c->unconsumed[i] > 0 && static_cast<std::size_t>(avail) < read_chunk &&
      !c->remote_eof) {
    held = true;
    return false;
  }
  auto& p = c->pending[i];
  auto& scratch = owner.read_buffer();
  auto want = static_cast<std::size_t>(avail);
  p.reserve(want);
  while (p.size() < want) {
    auto room = std::min(want - p.size(), scratch.size());
    // Into scratch, not a resized string: zero-filling `room` bytes for
    // each packet of ~32 KiB cost more than the copy.
    int n = ssh_channel_read_nonblocking(c->handle, scratch.data(),
                                         static_cast<std::uint32_t>(room), i);
    if (n <= 0) {
      if (n == SSH_EOF) c->output[i] = output_state::eof_read;
      break;
    }
    p.append(scratch.data(), static_cast<std::size_t>(n));
  }
  return true;
}

// Hands pending bytes to the listener as far as its credit goes, in
// pieces of at most a chunk; then the end of a stream that is all read.
void deliver(const chan_ptr& c) {
  for (int i = 0; i < 2; ++i) {
    auto& p = c->pending[i];
    auto& off = c->pending_off[i];
    while (off < p.size() && c->unconsumed[i] < credit_window()) {
      auto n = std::min(
          {p.size() - off, credit_window() - c->unconsumed[i], read_chunk});
      c->unconsumed[i] += n;
      std::string piece;
      if (off == 0 && n == p.size()) {
        piece.swap(p);
      } else {
        piece = p.substr(off, n);
        off += n;
      }
      c->listener->on_data(i + 1, std::move(piece));
      if (c->state == chan::phase::done) return;
    }
    if (off >= p.size()) {
      p.clear();
      off = 0;
      if (c->output[i] == output_state::reading &&
          ssh_channel_poll(c->handle, i) == SSH_EOF)
        c->output[i] = output_state::eof_read;
      if (c->output[i] == output_state::eof_read) {
        c->output[i] = output_state::eof_delivered;
        c->listener->on_eof(i + 1);
        if (c->state == chan::phase::done) return;
      }
    }
  }
}

// The running phase: signals, then stdin, then output, then the end.
void io(chan_owner& owner, const chan_ptr& c) {
  for (int s : c->signals)
    if (const char* name = signal_name(s))
      ssh_channel_request_send_signal(c->handle, name);
  c->signals.clear();

  std::size_t drained = 0;
  while (!c->stdin_queue.empty()) {
    auto& b = c->stdin_queue.front();
    int n =
        ssh_channel_write(c->handle, b.data() + c->stdin_off,
                          static_cast<std::uint32_t>(b.size() - c->stdin_off));
    if (n <= 0) break;
    drained += static_cast<std::size_t>(n);
    c->stdin_off += static_cast<std::size_t>(n);
    if (c->stdin_off == b.size()) {
      c->stdin_queue.pop_front();
      c->stdin_off = 0;
    }
  }
  if (c->stdin_queue.empty() && c->input == input_state::closing) {
    ssh_channel_send_eof(c->handle);
    c->input = input_state::closed;
  }
  if (drained > 0 && c->listener) c->listener->on_drained(0, drained);
  if (c->state == chan::phase::done) return;

  // libssh 0.10 re-opens the channel window to ~1.2 MB on every read,
  // however much it still holds unread, so reading only as credit allows
  // would let the server fill libssh's buffer without bound under a slow
  // consumer. Instead, read from libssh only once everything read before
  // went to the listener, and then take all it holds: libssh never holds
  // more than one window, the sshd stops the writer, and memory stays
  // bounded by two windows plus the credit per stream.
  deliver(c);
  if (c->state == chan::phase::done) return;
  if (c->pending[0].empty() && c->pending[1].empty()) {
    bool got = false, held = false;
    for (int i = 0; i < 2; ++i) got = take(owner, c, i, held) || got;
    // A later poll (the other stream's) may have taken in the remote EOF:
    // then nothing more arrives to wake us, so take what was held now.
    if (held && c->remote_eof)
      for (int i = 0; i < 2; ++i) got = take(owner, c, i, held) || got;
    if (got) deliver(c);
    if (c->state == chan::phase::done) return;
  }
  if (c->output[0] == output_state::eof_delivered &&
      c->output[1] == output_state::eof_delivered &&
      ssh_channel_is_closed(c->handle)) {
    if (c->got_exit_signal)
      owner.finish(c, exit_status::killed_by(c->exit_signal, c->core_dumped));
    else if (c->got_exit_status)
      owner.finish(c, exit_status::exited_with(c->exit_code));
    else if (c->terminating)
      owner.finish(c, exit_status::killed_by(SIGKILL));
    else
      owner.finish(c, owner.fail(failure_kind::lost,
                                 "channel closed without an exit "
                                 "status"));
  }
}

}  // namespace

void begin_open(chan& c, ssh_session session) {
  c.session = session;
  c.handle = ssh_channel_new(session);
  ssh_callbacks_init(&c.callbacks);
  c.callbacks.userdata = &c;
  c.callbacks.channel_data_function = on_data;
  c.callbacks.channel_exit_status_function = on_exit_status;
  c.callbacks.channel_eof_function = on_remote_eof;
  c.callbacks.channel_close_function = on_close;
  c.callbacks.channel_exit_signal_function = on_exit_signal;
  ssh_set_channel_callbacks(c.handle, &c.callbacks);
  c.state = chan::phase::opening;
}

void step(chan_owner& owner, const chan_ptr& c) {
  // What libssh took in before this point is looked at below; only what
  // it takes in from here on needs another step.
  c->stirred = false;
  int rc;
  switch (c->state) {
    case chan::phase::queued:
    case chan::phase::done:
      return;
    case chan::phase::opening:
      rc = ssh_channel_open_session(c->handle);
      if (rc == SSH_AGAIN) return;
      if (rc != SSH_OK)
        return ssh_is_connected(c->session) ? owner.open_failed(c)
                                            : owner.conn_lost(c);
      c->state = chan::phase::env;
      [[fallthrough]];
    case chan::phase::env:
      while (c->env_sent < c->env.size()) {
        auto& kv = c->env[c->env_sent];
        auto eq = kv.find('=');
        auto k = kv.substr(0, eq);
        auto v = eq == std::string::npos ? std::string{} : kv.substr(eq + 1);
        rc = ssh_channel_request_env(c->handle, k.c_str(), v.c_str());
        if (rc == SSH_AGAIN) return;
        if (rc != SSH_OK && !ssh_is_connected(c->session))
          return owner.conn_lost(c);
        // A refused variable (AcceptEnv) is not fatal, as with ssh(1).
        ++c->env_sent;
      }
      c->state = chan::phase::exec;
      [[fallthrough]];
    case chan::phase::exec:
      rc = ssh_channel_request_exec(c->handle, c->command_line.c_str());
      if (rc == SSH_AGAIN) return;
      // Not accepted: whatever the server made of it, the command has had
      // no stdin yet, so nothing of the caller's ran.
      if (rc != SSH_OK && !ssh_is_connected(c->session))
        return owner.conn_lost(c);
      if (rc != SSH_OK) {
        owner.finish(
            c, owner.fail(failure_kind::spawn, std::string{"exec refused: "} +
                                                   ssh_get_error(c->session)));
        return;
      }
      c->state = chan::phase::running;
      [[fallthrough]];
    case chan::phase::running:
      io(owner, c);
  }
}

void expire(chan_owner& owner, const chan_ptr& c, clock::time_point now) {
  if (!c->terminating || now < c->kill_deadline) return;
  owner.finish(c, c->got_exit_signal
                      ? exit_status::killed_by(c->exit_signal, c->core_dumped)
                  : c->got_exit_status ? exit_status::exited_with(c->exit_code)
                                       : exit_status::killed_by(SIGKILL));
}

void drop_handle(chan& c) {
  if (c.handle != nullptr) ssh_channel_free(c.handle);
  c.handle = nullptr;
  c.session = nullptr;
}

void rewind(chan& c) {
  drop_handle(c);
  c.state = chan::phase::queued;
  c.env_sent = 0;
  c.stirred = false;
  ++c.rewinds;
}

bool close_chan(chan& c) {
  if (c.state == chan::phase::done) return false;
  c.state = chan::phase::done;
  if (c.handle != nullptr) {
    if (c.session != nullptr && ssh_is_connected(c.session))
      ssh_channel_close(c.handle);
    ssh_channel_free(c.handle);
    c.handle = nullptr;
  }
  return true;
}

void report_exit(chan& c, exit_status st) {
  auto l = std::move(c.listener);
  if (l) l->on_exit(std::move(st));
}

namespace {

class ssh_exec_channel : public exec_channel {
 public:
  ssh_exec_channel(std::shared_ptr<chan_owner> owner, chan_ptr c)
      : owner_(std::move(owner)), c_(std::move(c)) {}

  void write(std::uint32_t s, std::string bytes) override {
    if (s != 0) return;  // extra fds need the agent backend
    run([bytes = std::move(bytes)](chan& c) mutable {
      if (c.input == input_state::open && !bytes.empty())
        c.stdin_queue.push_back(std::move(bytes));
    });
  }

  void close_stream(std::uint32_t s) override {
    if (s != 0) return;
    run([](chan& c) { close_input(c); });
  }

  // Once the command has exited, sshd has nobody to signal; what holds the
  // channel open is what the command left behind, and a signal means the
  // requester stops waiting for it: the channel is given up after a grace
  // (its orphan guard kills the group when the connection goes).
  void signal(int signo) override {
    run([signo](chan& c) {
      c.signals.push_back(signo);
      if ((c.got_exit_status || c.got_exit_signal) && !c.terminating) {
        c.terminating = true;
        close_input(c);
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
      close_input(c);
      c.kill_deadline = clock::now() + std::chrono::seconds(2);
    });
  }

  // The next keepalive tick gives the channel up.
  void kill() override {
    run([](chan& c) {
      if (!c.terminating) c.signals.push_back(SIGKILL);
      c.terminating = true;
      close_input(c);
      c.kill_deadline = clock::now();
    });
  }

 private:
  // EOF goes out once the queued stdin has.
  static void close_input(chan& c) {
    if (c.input == input_state::open) c.input = input_state::closing;
  }

  template <class F>
  void run(F f) {
    auto owner = owner_;
    auto c = c_;
    owner->post([owner, c, f = std::move(f)]() mutable {
      if (c->state == chan::phase::done) return;
      f(*c);
      owner->pump_chan(c);
    });
  }

  std::shared_ptr<chan_owner> owner_;
  chan_ptr c_;
};

}  // namespace

std::shared_ptr<exec_channel> make_exec_channel(
    std::shared_ptr<chan_owner> owner, chan_ptr c) {
  return std::make_shared<ssh_exec_channel>(std::move(owner), std::move(c));
}

}  // namespace remex::transport::ssh
