#include "actors/signal_forwarder.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace remex::actors {

namespace {

signal_forwarder_actor::behavior_type signal_forwarder(
    signal_forwarder_actor::pointer, channel_ref_ptr ch) {
  return {
      [ch](signal_atom, std::int32_t signo) { ch->signal(signo); },
  };
}

}  // namespace

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent,
                                              channel_ref_ptr ch) {
  return parent->spawn<caf::monitored>(signal_forwarder, std::move(ch));
}

}  // namespace remex::actors
