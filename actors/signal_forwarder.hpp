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

signal_forwarder_actor spawn_signal_forwarder(caf::local_actor* parent);

}  // namespace remex::actors
