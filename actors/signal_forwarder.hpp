// signal_forwarder: turns signal requests into the backend's way of delivering
// them to the remote process group (agent `signal` frame, SSH `signal`
// request).
#pragma once

#include <caf/typed_actor.hpp>
#include <cstdint>

#include "actors/atoms.hpp"
#include "actors/channel_ref.hpp"

namespace remex::actors {

using signal_forwarder_actor =
    caf::typed_actor<caf::reacts_to<signal_atom, std::int32_t>>;

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent,
                                              channel_ref_ptr ch);

}  // namespace remex::actors
