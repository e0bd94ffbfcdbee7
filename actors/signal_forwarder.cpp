#include "actors/signal_forwarder.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <vector>

namespace remex::actors {

namespace {

struct forwarder_state {
  channel_ptr ch;
  std::vector<std::int32_t> held;  // before the channel opened
  static inline const char* name = "signal_forwarder";
};

// Takes the signals held so far as its argument: CAF 0.17 dereferences a
// null argument tuple when a function-based actor is spawned without any.
signal_forwarder_actor::behavior_type signal_forwarder(
    signal_forwarder_actor::stateful_pointer<forwarder_state> self,
    std::vector<std::int32_t> held) {
  self->state.held = std::move(held);
  return {
      [self](signal_atom, std::int32_t signo) {
        if (self->state.ch)
          self->state.ch->signal(signo);
        else
          self->state.held.push_back(signo);
      },
      [self](opened_atom, channel_ptr& ch) {
        self->state.ch = std::move(ch);
        for (auto signo : self->state.held) self->state.ch->signal(signo);
        self->state.held.clear();
      },
  };
}

}  // namespace

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent) {
  return parent->spawn<caf::monitored>(signal_forwarder,
                                       std::vector<std::int32_t>{});
}

}  // namespace remex::actors
