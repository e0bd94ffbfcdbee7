#include "actors/refusal.hpp"

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

namespace remex::actors {

std::string refusal_line(caf::actor_system& sys, const caf::error& e) {
  if (e.category() == caf::atom("system") &&
      e.code() == static_cast<std::uint8_t>(caf::sec::runtime_error) &&
      e.context().match_elements<std::string>())
    return e.context().get_as<std::string>(0);
  return sys.render(e);
}

}  // namespace remex::actors
