// supervisor: the single owner of one execution. It spawns and monitors the
// stream pumps (one per stream and direction; an extra fd N gets both) and
// the signal forwarder, opens the channel through the host's session, and
// reports one outcome to the broker. Whatever ends the execution — the
// command's exit, a failed child, the deadline, the requester's death, a
// cancel — it kills the remote process group and stops everything it
// spawned; nothing outlives it.
//
// The conversation (pinned by tests/actors/choreography_test.cpp):
//   supervisor → session   open(request, relay)        → channel
//   relay (transport I/O thread) → pumps, forwarder, supervisor: opened(ch)
//   supervisor → requester's sources: attach(input pump / forwarder)
//   relay → output pump: chunk;  output pump → sink: chunk → credit;
//   output pump → channel: consumed
//   source → input pump: chunk;  relay → input pump: drained → source: credit
//   relay → supervisor: exited(outcome);  pumps → supervisor: done(stream)
//   supervisor → broker: done(id, outcome)
#pragma once

#include <cstdint>
#include <memory>

#include "actors/byte_counts.hpp"
#include "actors/channel_types.hpp"
#include "actors/interfaces.hpp"
#include "actors/session.hpp"
#include "config/supervisor_settings.hpp"

namespace remex::actors {

// What the supervisor's own children and transport listener send it, on top
// of what a requester may.
using supervisor_impl_actor = supervisor_actor::extend<
    // an output pump's sink failed (the requester's end of stream s is gone)
    caf::reacts_to<cancel_atom, std::uint32_t, std::string>,
    caf::reacts_to<opened_atom, channel_ptr>,
    caf::reacts_to<exited_atom, outcome>,
    caf::reacts_to<done_atom, std::uint32_t>,
    caf::reacts_to<log_atom, std::int32_t, std::string>,
    // a line for the requester about the connection (a host key recorded)
    caf::reacts_to<notice_atom, std::string>, caf::reacts_to<deadline_atom>,
    // the signal forwarder handed signal N to the channel
    caf::reacts_to<delivered_atom, std::int32_t>>;

// Where a supervisor reports its one outcome (the broker's internal side).
using report_actor =
    caf::typed_actor<caf::reacts_to<done_atom, std::uint64_t, outcome>>;

// report_to receives (done_atom, id, outcome) exactly once, then the
// supervisor quits. settings: the kill ladder (config/supervisor_settings.hpp).
supervisor_impl_actor spawn_supervisor(
    caf::local_actor* parent, std::uint64_t id, exec_request req,
    endpoints ends, caf::actor requester, session_actor session,
    report_actor report_to, config::supervisor_settings settings = {},
    std::shared_ptr<byte_counts> counts = {});

}  // namespace remex::actors
