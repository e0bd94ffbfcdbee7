// event_hub: one per node, owned by its broker. It keeps who watches the
// node (watch_atom on the broker's public interface) and pushes them the
// node's events as the broker reports them. A console watching the cluster
// gets its peers' events too: the hub subscribes one relay (an
// event_sink_actor of its own, the only handle of it a peer sees) at every
// live peer while such a console watches, and ends the relay when none
// does, which each peer notices by its monitor. Node up/down events are
// this node's view of its peers and go to consoles only, never on to a
// peer's relay, so no console hears of a node twice.
#pragma once

#include <atomic>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/peer_types.hpp"

namespace remex::actors {

// - event(row): from this node's broker (and its transports' watchers), an
//   event here, for every watcher;
// - watch(sink, cluster): as on the broker (interfaces.hpp), delegated;
// - routes(live peers): whom a relay must be subscribed at;
// - relayed(row): a peer's event, from the hub's relay, for consoles.
using event_hub_actor = caf::typed_actor<
    caf::reacts_to<event_atom, console_row>,
    caf::replies_to<watch_atom, event_sink_actor, bool>::with<bool>,
    caf::reacts_to<routes_atom, peer_routes>,
    caf::reacts_to<relayed_atom, console_row>>;

// watching: how many watch the node now (consoles and peers' relays), kept
// by the hub for the broker's stats.
event_hub_actor spawn_event_hub(
    caf::local_actor* parent,
    std::shared_ptr<std::atomic<std::size_t>> watching);

// An event row: "event", then node (where it happened), then fields.
console_row event_row(const std::string& event, const std::string& node);

}  // namespace remex::actors
