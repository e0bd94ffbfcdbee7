// What remexd publishes and gives its peers instead of the broker itself.
// A typed handle is only a compile-time view: over BASP any message reaches
// the actor behind it, and the broker also handles its children's reports
// and admin requests (done, shutdown, settings …). The face answers the
// public interface (broker_actor) by delegating to the broker; anything
// else gets unexpected_message, and every exit message sent to it (reason
// kill included) is dropped before its mailbox, so no holder of the handle
// can stop, complete or reconfigure anything through it. It ends when the
// broker does.
#pragma once

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"

namespace remex::actors {

broker_actor spawn_public_face(caf::actor_system& sys, broker_actor broker);

}  // namespace remex::actors
