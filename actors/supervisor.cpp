#include "actors/supervisor.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <map>
#include <optional>
#include <set>

#include "actors/channel_relay.hpp"
#include "actors/log.hpp"
#include "actors/signal_forwarder.hpp"
#include "actors/stream_pump.hpp"
#include "actors/wire_guard.hpp"
#include "protocol/frame.hpp"

namespace remex::actors {

namespace {

struct supervisor_state {
  std::uint64_t id = 0;
  exec_request req;
  endpoints ends;
  caf::actor requester;
  report_actor report_to;
  config::supervisor_settings settings;
  channel_ptr ch;  // from the session's answer or the relay, whichever first
  bool terminated = false;  // ch->terminate() sent
  bool killed = false;      // ch->kill() sent
  std::map<std::uint32_t, output_pump_actor> outputs;
  std::map<std::uint32_t, input_pump_actor> inputs;
  signal_forwarder_actor forwarder;
  std::set<std::uint32_t> open_outputs;
  std::optional<outcome> result;       // what the transport reported
  std::optional<outcome> stop_reason;  // why we killed it, if we did
  // The session has not answered the open request yet (connecting, placing
  // the agent): no channel, so no remote process of this execution exists.
  bool opening = false;
  bool finished = false;
  std::set<std::int32_t> delivered;     // signals remex sent the command
  std::shared_ptr<byte_counts> counts;  // for consoles; may be null
  static inline const char* name = "supervisor";
};

using self_ptr = guarded_pointer<supervisor_impl_actor, supervisor_state>;

// Kills the remote process group, once, as soon as there is a channel.
void kill_remote(self_ptr self) {
  auto& st = self->state;
  if (!st.ch || st.terminated) return;
  st.terminated = true;
  st.ch->terminate();
}

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.finished) return;
  st.finished = true;
  outcome final;
  if (st.stop_reason) {
    final = *st.stop_reason;
    // Confirmed by the transport, or nothing was ever started.
    final.cleanup_done = st.result.has_value() || (st.opening && !st.ch);
  } else {
    final = *st.result;
  }
  kill_remote(self);
  for (auto& [s, pump] : st.outputs)
    self->send_exit(pump, caf::exit_reason::user_shutdown);
  for (auto& [s, pump] : st.inputs)
    self->send_exit(pump, caf::exit_reason::user_shutdown);
  self->send_exit(st.forwarder, caf::exit_reason::user_shutdown);
  log_actors()->debug("execution {} on {} ended: {}", st.id,
                      st.req.host_label(), final.to_string());
  self->send(st.report_to, done_atom::value, st.id, std::move(final));
  // A channel the session hands over after this is killed as it arrives:
  // stay for that answer, then go.
  if (!st.opening) self->quit();
}

void maybe_finish(self_ptr self) {
  if (self->state.result && self->state.open_outputs.empty()) finish(self);
}

// Kills the remote process group and reports `why` once the transport
// confirms the end (or the grace runs out).
void stop(self_ptr self, outcome why) {
  auto& st = self->state;
  if (st.finished || st.stop_reason) return;
  st.stop_reason = std::move(why);
  kill_remote(self);
  // Still connecting or placing the agent: there is no remote process to
  // wait for, and the connection attempt may take longer than any deadline.
  if (st.opening && !st.ch) {
    finish(self);
    return;
  }
  self->delayed_send(self, st.settings.terminate_grace, deadline_atom::value);
}

// The next rung of the ladder once a stop is under way: kill, then report.
void escalate(self_ptr self) {
  auto& st = self->state;
  if (st.killed || !st.ch) {
    finish(self);  // the kill grace ran out too
    return;
  }
  st.killed = true;
  st.ch->kill();
  self->delayed_send(self, st.settings.kill_grace, deadline_atom::value);
}

std::string stream_name(std::uint32_t s) {
  switch (s) {
    case protocol::stream_stdout:
      return "stdout";
    case protocol::stream_stderr:
      return "stderr";
    default:
      return "fd " + std::to_string(s);
  }
}

// Reports a failure that happened before any remote process existed.
void fail_early(self_ptr self, outcome o) {
  self->state.result = std::move(o);
  for (auto& [s, pump] : self->state.outputs)
    self->send(pump, exited_atom::value);
}

// The command runs: the requester's sources learn where to send. Each
// pump takes messages off the wire from that source's node only (a client
// behind a peer talks to it through BASP routing, so that is the client's
// node, not the peer's).
void attach_sources(self_ptr self) {
  auto& st = self->state;
  for (auto& [s, src] : st.ends.sources)
    if (auto i = st.inputs.find(s); i != st.inputs.end()) {
      admit(i->second, src);
      self->send(src, attach_atom::value, input_actor{i->second});
    }
  if (st.ends.signals) {
    admit(st.forwarder, st.ends.signals);
    self->send(st.ends.signals, attach_atom::value, signal_actor{st.forwarder});
  }
}

void channel_known(self_ptr self, channel_ptr ch) {
  auto& st = self->state;
  if (!st.ch) st.ch = std::move(ch);
  if (st.stop_reason) kill_remote(self);
}

void start(self_ptr self, session_actor session) {
  auto& st = self->state;
  std::set<std::uint32_t> out_streams{protocol::stream_stdout,
                                      protocol::stream_stderr};
  std::set<std::uint32_t> in_streams{protocol::stream_stdin};
  for (auto fd : st.req.fds) {
    out_streams.insert(fd);
    in_streams.insert(fd);
  }
  supervisor_impl_actor me = self;
  for (auto s : out_streams) {
    sink_actor sink;
    if (auto i = st.ends.sinks.find(s); i != st.ends.sinks.end())
      sink = i->second;
    st.outputs.emplace(s, spawn_output_pump(self, s, sink, me, st.counts));
    st.open_outputs.insert(s);
  }
  for (auto s : in_streams) {
    source_actor source;
    if (auto i = st.ends.sources.find(s); i != st.ends.sources.end())
      source = i->second;
    st.inputs.emplace(s, spawn_input_pump(self, s, source, st.counts));
  }
  st.forwarder = spawn_signal_forwarder(self, delivery_actor{me});
  auto relay =
      std::make_shared<channel_relay>(me, st.outputs, st.inputs, st.forwarder);
  st.opening = true;
  self->request(session, caf::infinite, open_atom::value, st.req,
                listener_ptr{relay})
      .then(
          [self](channel_ptr& ch) {
            auto& st = self->state;
            st.opening = false;
            // nullptr: the listener has been told why there is none.
            if (ch) channel_known(self, std::move(ch));
            if (st.finished) self->quit();
          },
          [self](caf::error& err) {
            auto& st = self->state;
            st.opening = false;
            if (st.finished) {
              self->quit();
              return;
            }
            // No channel, so no remote process: report at once.
            fail_early(self,
                       outcome::make_failed(transport::failure_kind::connect,
                                            255, self->system().render(err)));
          });
  if (st.requester) self->monitor(st.requester);
  if (st.req.timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(st.req.timeout_ms),
                       deadline_atom::value);
}

supervisor_impl_actor::behavior_type supervisor(
    self_ptr self, std::uint64_t id, exec_request req, endpoints ends,
    caf::actor requester, session_actor session, report_actor report_to,
    config::supervisor_settings settings, std::shared_ptr<byte_counts> counts) {
  auto& st = self->state;
  st.counts = std::move(counts);
  st.id = id;
  st.req = std::move(req);
  st.ends = std::move(ends);
  st.requester = std::move(requester);
  st.report_to = std::move(report_to);
  st.settings = settings;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.requester) {
      stop(self, outcome::of(outcome::cancelled));
      return;
    }
    // A dead output pump will never report its stream done.
    for (auto i = st.outputs.begin(); i != st.outputs.end(); ++i)
      if (i->second.address() == dm.source) {
        st.open_outputs.erase(i->first);
        break;
      }
    if (dm.reason && dm.reason != caf::exit_reason::user_shutdown &&
        !st.finished)
      stop(self, outcome::make_failed(transport::failure_kind::lost, 255,
                                      "an execution actor failed: " +
                                          self->system().render(dm.reason)));
    maybe_finish(self);
  });
  start(self, std::move(session));
  return {
      [self](signal_atom, std::int32_t signo) {
        self->send(self->state.forwarder, signal_atom::value, signo);
      },
      [self](cancel_atom) { stop(self, outcome::of(outcome::cancelled)); },
      [self](cancel_atom, std::uint32_t s, const std::string& why) {
        // The requester can no longer take stream s: nothing the command
        // writes can reach anyone, so stop it.
        stop(self, outcome::make_failed(
                       transport::failure_kind::output, 255,
                       "cannot deliver " + stream_name(s) + ": " + why));
      },
      [self](opened_atom, channel_ptr& ch) {
        channel_known(self, std::move(ch));
        if (!self->state.stop_reason) attach_sources(self);
      },
      [self](delivered_atom, std::int32_t signo) {
        self->state.delivered.insert(signo);
      },
      [self](exited_atom, outcome& o) {
        auto& st = self->state;
        if (st.result) return;
        // A shell between sshd and the command reports a death by a signal
        // remex delivered as its exit code 128+N: say what it was. The
        // requester's exit code is the same (128+N) either way.
        if (o.kind == outcome::exited && o.code > 128 &&
            st.delivered.count(o.code - 128) > 0) {
          o.kind = outcome::signaled;
          o.signal = o.code - 128;
          o.code = 0;
        }
        st.result = std::move(o);
        for (auto& [s, pump] : st.outputs) self->send(pump, exited_atom::value);
        maybe_finish(self);
      },
      [self](done_atom, std::uint32_t s) {
        self->state.open_outputs.erase(s);
        maybe_finish(self);
      },
      [self](log_atom, std::int32_t level, std::string& msg) {
        log_remote(self->state.req.host_label(), level, msg);
      },
      [self](notice_atom, std::string& line) {
        // To the requester's stderr, where ssh puts its warnings; it comes
        // before the channel carries anything, so before any output.
        auto& sinks = self->state.ends.sinks;
        if (auto i = sinks.find(2); i != sinks.end())
          self->request(i->second, caf::infinite, chunk_atom::value,
                        std::uint32_t{2}, line + "\n")
              .then([](std::uint64_t) {}, [](caf::error&) {});
        else
          log_actors()->warn("{}", line);
      },
      [self](deadline_atom) {
        auto& st = self->state;
        if (st.stop_reason)
          escalate(self);
        else if (!st.result)
          stop(self, outcome::of(outcome::timed_out));
      },
  };
}

}  // namespace

supervisor_impl_actor spawn_supervisor(caf::local_actor* parent,
                                       std::uint64_t id, exec_request req,
                                       endpoints ends, caf::actor requester,
                                       session_actor session,
                                       report_actor report_to,
                                       config::supervisor_settings settings,
                                       std::shared_ptr<byte_counts> counts) {
  return parent->spawn<caf::monitored>(
      supervisor, id, std::move(req), std::move(ends), std::move(requester),
      std::move(session), std::move(report_to), settings, std::move(counts));
}

}  // namespace remex::actors
