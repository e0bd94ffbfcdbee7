// signal_forwarder: the execution's signal target for every requester. It
// holds signals that arrive before the command runs and delivers each to the
// channel once it is open; the backend turns it into an agent `signal` frame
// or an SSH `signal` request for the remote process group.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/channel_types.hpp"
#include "actors/interfaces.hpp"

namespace remex::actors {

using signal_forwarder_actor =
    signal_actor::extend<caf::reacts_to<opened_atom, channel_ptr>>;

// Told each signal as the forwarder hands it to the channel, before it can
// take effect (the supervisor: an exit code of 128+N that follows is that
// signal's doing, not the command's own exit).
using delivery_actor =
    caf::typed_actor<caf::reacts_to<delivered_atom, std::int32_t>>;

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent,
                                              delivery_actor tell = {});

}  // namespace remex::actors
