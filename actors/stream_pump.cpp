#include "actors/stream_pump.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

struct output_state {
  std::uint32_t stream = 0;
  sink_actor sink;
  channel_ptr ch;  // from opened, before any chunk
  supervisor_impl_actor supervisor;
  std::uint64_t in_flight = 0;
  bool closing = false;  // remote EOF seen, or the channel ended
  bool eof_sent = false;
  std::shared_ptr<byte_counts> counts;
  static inline const char* name = "stream_pump.out";
};

void maybe_close(guarded_pointer<output_pump_actor, output_state> self) {
  auto& st = self->state;
  if (!st.closing || st.in_flight > 0 || st.eof_sent) return;
  st.eof_sent = true;
  if (!st.sink) {
    self->send(st.supervisor, done_atom::value, st.stream);
    self->quit();
    return;
  }
  self->request(st.sink, caf::infinite, eof_atom::value, st.stream)
      .then(
          [self](bool) {
            self->send(self->state.supervisor, done_atom::value,
                       self->state.stream);
            self->quit();
          },
          [self](caf::error&) {
            // Told the sink what it could; nothing more can reach it.
            self->send(self->state.supervisor, done_atom::value,
                       self->state.stream);
            self->quit();
          });
}

// The requester's end is gone: stop the execution, and meanwhile discard
// what still arrives so the channel drains and its exit can come through.
// What was in flight to the sink counts as consumed: its answers may never
// come (a sink on a node that died), and late ones are ignored.
void sink_failed(guarded_pointer<output_pump_actor, output_state> self,
                 const caf::error& err) {
  auto& st = self->state;
  if (!st.sink) return;
  st.sink = nullptr;
  if (st.in_flight > 0 && st.ch) st.ch->consumed(st.stream, st.in_flight);
  st.in_flight = 0;
  self->send(st.supervisor, cancel_atom::value, st.stream,
             self->system().render(err));
  if (st.eof_sent) {
    // Its answer to the eof will not come either.
    self->send(st.supervisor, done_atom::value, st.stream);
    self->quit();
  }
}

output_pump_actor::behavior_type output_pump(
    guarded_pointer<output_pump_actor, output_state> self, std::uint32_t s,
    sink_actor sink, supervisor_impl_actor supervisor,
    std::shared_ptr<byte_counts> counts) {
  auto& st = self->state;
  st.counts = std::move(counts);
  st.stream = s;
  st.sink = std::move(sink);
  st.supervisor = std::move(supervisor);
  // A sink on another node that dies (its remex run SIGKILLed) answers
  // nothing, and CAF 0.17 bounces nothing sent to it: only its down message
  // says so. Without it, the execution would end only when the kill ladder
  // ran out, seconds after the remote process was gone.
  if (st.sink) self->monitor(st.sink);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.sink || dm.source != st.sink.address()) return;
    sink_failed(self, dm.reason
                          ? dm.reason
                          : caf::make_error(caf::sec::request_receiver_down));
    maybe_close(self);
  });
  return {
      [self](opened_atom, channel_ptr& ch) { self->state.ch = std::move(ch); },
      [self](chunk_atom, std::string& bytes) {
        auto n = bytes.size();
        if (self->state.counts)
          self->state.counts->out.fetch_add(n, std::memory_order_relaxed);
        if (!self->state.sink) {
          // Nobody asked for this stream: discard, but keep the remote going.
          self->state.ch->consumed(self->state.stream, n);
          return;
        }
        self->state.in_flight += n;
        self->request(self->state.sink, caf::infinite, chunk_atom::value,
                      self->state.stream, std::move(bytes))
            .then(
                [self, n](std::uint64_t) {
                  if (!self->state.sink) return;  // counted when it failed
                  self->state.in_flight -= n;
                  self->state.ch->consumed(self->state.stream, n);
                  maybe_close(self);
                },
                [self](caf::error& err) {
                  sink_failed(self, err);
                  maybe_close(self);
                });
      },
      [self](eof_atom) {
        self->state.closing = true;
        maybe_close(self);
      },
      [self](exited_atom) {
        self->state.closing = true;
        maybe_close(self);
      },
  };
}

struct input_state {
  std::uint32_t stream = 0;
  channel_ptr ch;  // from opened, before the source is attached
  source_actor source;
  std::shared_ptr<byte_counts> counts;
  static inline const char* name = "stream_pump.in";
};

input_pump_actor::behavior_type input_pump(
    guarded_pointer<input_pump_actor, input_state> self, std::uint32_t s,
    source_actor source, std::shared_ptr<byte_counts> counts) {
  self->state.stream = s;
  self->state.source = std::move(source);
  self->state.counts = std::move(counts);
  return {
      [self](opened_atom, channel_ptr& ch) { self->state.ch = std::move(ch); },
      [self](chunk_atom, std::string& bytes) {
        if (self->state.counts)
          self->state.counts->in.fetch_add(bytes.size(),
                                           std::memory_order_relaxed);
        self->state.ch->write(self->state.stream, std::move(bytes));
      },
      [self](eof_atom) { self->state.ch->close_stream(self->state.stream); },
      [self](drained_atom, std::uint64_t n) {
        if (self->state.source)
          self->send(self->state.source, credit_atom::value, n);
      },
  };
}

}  // namespace

output_pump_actor spawn_output_pump(caf::local_actor* parent, std::uint32_t s,
                                    sink_actor sink,
                                    supervisor_impl_actor supervisor,
                                    std::shared_ptr<byte_counts> counts) {
  return parent->spawn<caf::monitored>(output_pump, s, std::move(sink),
                                       std::move(supervisor),
                                       std::move(counts));
}

input_pump_actor spawn_input_pump(caf::local_actor* parent, std::uint32_t s,
                                  source_actor source,
                                  std::shared_ptr<byte_counts> counts) {
  return parent->spawn<caf::monitored>(input_pump, s, std::move(source),
                                       std::move(counts));
}

}  // namespace remex::actors
