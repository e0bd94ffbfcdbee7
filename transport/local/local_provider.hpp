// The embedded default backend: commands run on this machine through pipes,
// started the way sshd starts an exec request (the user's shell with -c, in a
// new session so the command leads its own process group).
#pragma once

#include <memory>

#include "transport/session_provider.hpp"

namespace remex::transport {

std::shared_ptr<session_provider> make_local_provider();

}  // namespace remex::transport
