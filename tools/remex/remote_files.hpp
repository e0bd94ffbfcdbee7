// A file session held by a remexd (actors::files_actor), seen as the
// transport's file_session, so that remex fs, cp and paths run the same code
// embedded and through --broker.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <memory>

#include "actors/interfaces.hpp"
#include "transport/agent_files.hpp"

namespace remex::cli {

// liveness: what ends when the remexd can no longer be reached
// (broker_client::liveness).
std::shared_ptr<transport::file_session> remote_file_session(
    caf::actor_system& sys, actors::files_actor files, std::string broker,
    caf::actor liveness);

}  // namespace remex::cli
