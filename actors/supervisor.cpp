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
#include "protocol/frame.hpp"

namespace remex::actors {

namespace {

struct supervisor_state {
  std::uint64_t id = 0;
  exec_request req;
  endpoints ends;
  caf::actor requester;
  broker_actor report_to;
  supervisor_settings settings;
  channel_ref_ptr ch = std::make_shared<channel_ref>();
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
  static inline const char* name = "supervisor";
};

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.finished) return;
  st.finished = true;
  outcome final;
  if (st.stop_reason) {
    final = *st.stop_reason;
    // Confirmed by the transport, or nothing was ever started.
    final.cleanup_done = st.result.has_value() || st.opening;
  } else {
    final = *st.result;
  }
  st.ch->terminate();
  for (auto& [s, pump] : st.outputs)
    self->send_exit(pump, caf::exit_reason::user_shutdown);
  for (auto& [s, pump] : st.inputs)
    self->send_exit(pump, caf::exit_reason::user_shutdown);
  self->send_exit(st.forwarder, caf::exit_reason::user_shutdown);
  log_actors()->debug("execution {} on {} ended: {}", st.id,
                      st.req.host_label(), final.to_string());
  self->send(st.report_to, done_atom::value, st.id, std::move(final));
  // A channel the session hands over after this is killed as it arrives
  // (st.ch remembers the terminate): stay for that answer, then go.
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
  st.ch->terminate();
  // Still connecting or placing the agent: there is no remote process to
  // wait for, and the connection attempt may take longer than any deadline.
  if (st.opening) {
    finish(self);
    return;
  }
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

// What makes a request impossible to run, before any connection is made.
std::string request_problem(const exec_request& req) {
  if (req.argv.empty()) return "no command to run";
  if (req.backend != "agent" && req.backend != "ssh")
    return "unknown backend '" + req.backend + "' (agent or ssh)";
  for (auto fd : req.fds) {
    if (fd < 3) return "extra fd " + std::to_string(fd) + ": must be 3 or more";
    if (req.backend == "ssh")
      return "extra fds need the agent backend: a plain SSH channel carries "
             "only stdin, stdout and stderr";
  }
  return {};
}

// Reports a failure that happened before any remote process existed.
void fail_early(self_ptr self, outcome o) {
  self->state.result = std::move(o);
  for (auto& [s, pump] : self->state.outputs)
    self->send(pump, exited_atom::value);
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
  supervisor_actor me = self;
  for (auto s : out_streams) {
    sink_actor sink;
    if (auto i = st.ends.sinks.find(s); i != st.ends.sinks.end())
      sink = i->second;
    st.outputs.emplace(s, spawn_output_pump(self, s, sink, st.ch, me));
    st.open_outputs.insert(s);
  }
  for (auto s : in_streams)
    st.inputs.emplace(s, spawn_input_pump(self, s, st.ch));
  st.forwarder = spawn_signal_forwarder(self, st.ch);
  if (auto problem = request_problem(st.req); !problem.empty()) {
    fail_early(self, outcome::make_failed(
                         "request", 255, st.req.host_label() + ": " + problem));
    return;
  }
  auto relay = std::make_shared<channel_relay>(me, st.outputs, st.inputs);
  st.opening = true;
  self->request(session, caf::infinite, open_atom::value, st.req,
                listener_ptr{relay})
      .then(
          [self](channel_ptr& ch) {
            auto& st = self->state;
            st.opening = false;
            if (!ch) {  // the listener has been told why
              if (st.finished) self->quit();
              return;
            }
            // Killed at once if the execution was stopped meanwhile.
            st.ch->set(std::move(ch));
            if (st.finished) {
              self->quit();
              return;
            }
            supervisor_actor me = self;
            for (auto& src : st.ends.sources)
              caf::anon_send(src, attach_atom::value, me);
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
                       outcome::make_failed("connect", 255,
                                            st.req.host_label() + ": " +
                                                self->system().render(err)));
          });
  if (st.requester) self->monitor(st.requester);
  if (st.req.timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds(st.req.timeout_ms),
                       deadline_atom::value);
}

supervisor_actor::behavior_type supervisor(self_ptr self, std::uint64_t id,
                                           exec_request req, endpoints ends,
                                           caf::actor requester,
                                           session_actor session,
                                           broker_actor report_to,
                                           supervisor_settings settings) {
  auto& st = self->state;
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
      stop(self, outcome::make_failed("lost", 255,
                                      st.req.host_label() +
                                          ": an execution actor failed: " +
                                          self->system().render(dm.reason)));
    maybe_finish(self);
  });
  start(self, std::move(session));
  return {
      [self](chunk_atom, std::uint32_t s, std::string& bytes) {
        auto i = self->state.inputs.find(s);
        if (i != self->state.inputs.end())
          self->send(i->second, chunk_atom::value,
                     caf::actor_cast<caf::actor>(self->current_sender()),
                     std::move(bytes));
      },
      [self](eof_atom, std::uint32_t s) {
        auto i = self->state.inputs.find(s);
        if (i != self->state.inputs.end())
          self->send(i->second, eof_atom::value);
      },
      [self](signal_atom, std::int32_t signo) {
        self->send(self->state.forwarder, signal_atom::value, signo);
      },
      [self](cancel_atom) { stop(self, outcome::of(outcome::cancelled)); },
      [self](cancel_atom, std::uint32_t s, const std::string& why) {
        // The requester can no longer take stream s: nothing the command
        // writes can reach anyone, so stop it.
        stop(self, outcome::make_failed("output", 255,
                                        self->state.req.host_label() +
                                            ": cannot deliver " +
                                            stream_name(s) + ": " + why));
      },
      [self](exited_atom, outcome& o) {
        auto& st = self->state;
        if (st.result) return;
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
      [self](deadline_atom) {
        auto& st = self->state;
        if (st.stop_reason)
          finish(self);  // the kill grace ran out
        else if (!st.result)
          stop(self, outcome::of(outcome::timed_out));
      },
  };
}

}  // namespace

supervisor_actor spawn_supervisor(caf::local_actor* parent, std::uint64_t id,
                                  exec_request req, endpoints ends,
                                  caf::actor requester, session_actor session,
                                  broker_actor report_to,
                                  supervisor_settings settings) {
  return parent->spawn<caf::monitored>(
      supervisor, id, std::move(req), std::move(ends), std::move(requester),
      std::move(session), std::move(report_to), settings);
}

}  // namespace remex::actors
