#include "actors/signal_forwarder.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <vector>

#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

struct forwarder_state {
  delivery_actor tell;
  channel_ptr ch;
  std::vector<std::int32_t> held;  // before the channel opened
  static inline const char* name = "signal_forwarder";
};

// Takes the signals held so far as its argument: CAF 0.17 dereferences a
// null argument tuple when a function-based actor is spawned without any.
signal_forwarder_actor::behavior_type signal_forwarder(
    guarded_pointer<signal_forwarder_actor, forwarder_state> self,
    std::vector<std::int32_t> held, delivery_actor tell) {
  self->state.held = std::move(held);
  self->state.tell = std::move(tell);
  // Told first, so that the exit it causes comes later.
  auto deliver = [self](std::int32_t signo) {
    if (self->state.tell)
      self->send(self->state.tell, delivered_atom::value, signo);
    self->state.ch->signal(signo);
  };
  return {
      [self, deliver](signal_atom, std::int32_t signo) {
        if (self->state.ch)
          deliver(signo);
        else
          self->state.held.push_back(signo);
      },
      [self, deliver](opened_atom, channel_ptr& ch) {
        self->state.ch = std::move(ch);
        for (auto signo : self->state.held) deliver(signo);
        self->state.held.clear();
      },
  };
}

}  // namespace

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent,
                                              delivery_actor tell) {
  return parent->spawn<caf::monitored>(
      signal_forwarder, std::vector<std::int32_t>{}, std::move(tell));
}

}  // namespace remex::actors
