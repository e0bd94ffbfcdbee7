// stream_pump: the bytes of one stream in one direction, credit-based. Each
// pump gets the execution's channel from the transport listener (opened)
// before anything else reaches it.
//
// output (remote → requester): chunks from the transport go to the requester's
// sink; only the sink's reply returns credit to the transport, so at most the
// transport's window is in flight and a slow requester stalls the remote
// writer instead of filling memory.
//
// input (requester → remote): chunks from the requester's source go to the
// channel; the transport's "drained" notice turns into credit for the source.
#pragma once

#include <caf/actor.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/byte_counts.hpp"
#include "actors/channel_types.hpp"
#include "actors/supervisor.hpp"

namespace remex::actors {

using output_pump_actor =
    caf::typed_actor<caf::reacts_to<opened_atom, channel_ptr>,
                     caf::reacts_to<chunk_atom, std::string>,  // remote data
                     caf::reacts_to<eof_atom>,                 // remote EOF
                     caf::reacts_to<exited_atom>>;  // channel ended: close up

// What the source sees (input_actor) plus what the transport tells it.
using input_pump_actor =
    input_actor::extend<caf::reacts_to<opened_atom, channel_ptr>,
                        caf::reacts_to<drained_atom, std::uint64_t>>;

// Reports (done_atom, stream) to the supervisor once the sink has everything
// and has been told EOF, then quits.
output_pump_actor spawn_output_pump(caf::local_actor* parent, std::uint32_t s,
                                    sink_actor sink,
                                    supervisor_impl_actor supervisor,
                                    std::shared_ptr<byte_counts> counts = {});

// Credit for what reached the remote side goes to source (if any).
input_pump_actor spawn_input_pump(caf::local_actor* parent, std::uint32_t s,
                                  source_actor source,
                                  std::shared_ptr<byte_counts> counts = {});

}  // namespace remex::actors
