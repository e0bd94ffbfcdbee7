// file_service: a host's agent file session (transport/agent_files.hpp)
// behind the public files_actor interface, so that a requester on another
// node (remex fs, cp and paths through a remexd) can drive it. It closes the
// session when its requester says so or goes away.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/session.hpp"

namespace remex::actors {

files_actor spawn_file_service(caf::local_actor* parent,
                               file_session_ptr session, caf::actor requester);

}  // namespace remex::actors
