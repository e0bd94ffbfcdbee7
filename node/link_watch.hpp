// Whether a remexd is still there, as the client sees it: a local actor that
// ends when the broker's node is gone. CAF tells a monitor when the
// connection closes, but a node that falls silent (a frozen host, a cut
// cable) is noticed only by BASP's connection timeout, and a client cannot
// use that one: in CAF 0.17.6 it also drops connections that are still in
// their handshake (node_link.cpp). So this actor asks the broker every
// interval and ends after `misses` unanswered asks in a row, or at once
// when the link closes. Whoever must not wait for ever on the broker
// monitors it (broker_client::liveness()).
#pragma once

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>
#include <chrono>

#include "actors/interfaces.hpp"

namespace remex::node {

// Hidden from the actor system's count: it lives as long as the program
// and must not hold its exit.
caf::actor spawn_link_watch(caf::actor_system& sys,
                            const actors::broker_actor& broker,
                            caf::timespan interval = std::chrono::seconds(2),
                            int misses = 5);

}  // namespace remex::node
