// peer_forwarder: one per request that a node passes on to the peer that
// serves its target. The request reaches it by delegation, so it answers
// the requester itself; the requester's endpoints go to the peer as they
// are, and BASP routes the streams between them through this node, with
// the requester's own credit. It stands for the requester at the peer: the
// peer's supervisor monitors it, so when the requester goes away (or this
// node dies) the peer kills the command. It watches the peer: when the peer
// dies or is cut off, the requester hears failed(lost) at once.
#pragma once

#include <caf/fwd.hpp>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace remex::actors {

using forwarder_actor = caf::typed_actor<
    caf::replies_to<exec_atom, exec_request, endpoints>::with<outcome>>;

// path: the nodes the request has passed (this one).
forwarder_actor spawn_forwarder(caf::local_actor* parent, broker_actor peer,
                                std::string peer_name,
                                std::vector<std::string> path);

// The same for a file session (remex fs, paths, cp): it asks the peer for
// the session and hands the requester itself, as a files_actor that relays
// each request to the peer's session and its answer back. The peer's
// session takes messages only from the node it was handed to (this one:
// wire_guard.hpp), so the requester cannot talk to it directly. It stays
// as the requester's stand-in there until the requester closes it or goes
// away (the peer then closes the session: a peer cannot see the requester
// itself go), the peer's session ends, or this node stops (the broker
// sends it an exit).
using files_forwarder_actor = files_actor::extend<
    caf::replies_to<files_atom, exec_request>::with<files_actor>>;

files_forwarder_actor spawn_files_forwarder(caf::local_actor* parent,
                                            broker_actor peer,
                                            std::vector<std::string> path);

}  // namespace remex::actors
