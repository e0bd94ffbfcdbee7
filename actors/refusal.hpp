// How a node's refusal reads to the one who asked: it travels as a
// runtime_error whose context is its one line (caf::make_error(
// caf::sec::runtime_error, "why")), which is shown alone; any other error
// is rendered by CAF.
#pragma once

#include <caf/fwd.hpp>
#include <string>

namespace remex::actors {

std::string refusal_line(caf::actor_system& sys, const caf::error& e);

}  // namespace remex::actors
