// supervisor: the single owner of one execution. It spawns and monitors the
// stream pumps (one per stream and direction; an extra fd N gets both, which
// is its fd bridge) and the signal forwarder, opens the channel through the
// host's session, and reports one outcome to the broker. Whatever ends the
// execution — the command's exit, a failed child, the deadline, the
// requester's death, a cancel — it kills the remote process group and stops
// everything it spawned; nothing outlives it.
#pragma once

#include <chrono>
#include <cstdint>

#include "actors/interfaces.hpp"
#include "actors/session.hpp"

namespace remex::actors {

struct supervisor_settings {
  // How long to wait for the transport to confirm the remote process group is
  // gone after a kill, before reporting without that confirmation.
  std::chrono::milliseconds kill_grace{5000};
};

// report_to receives (done_atom, id, outcome) exactly once, then the
// supervisor quits.
supervisor_actor spawn_supervisor(caf::local_actor* parent, std::uint64_t id,
                                  exec_request req, endpoints ends,
                                  caf::actor requester, session_actor session,
                                  broker_actor report_to,
                                  supervisor_settings settings = {});

}  // namespace remex::actors
