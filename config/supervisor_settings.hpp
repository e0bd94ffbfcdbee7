// The kill ladder of an execution, in one place. Stopping asks the transport
// to terminate (the far side sends TERM, then KILL after its own 2 s); if
// that is not confirmed within terminate_grace — longer on purpose, so a
// working far side always finishes first — the channel is killed outright
// (the agent's guard still kills the group); after kill_grace more the
// outcome is reported without confirmation.
#pragma once

#include <chrono>

namespace remex::config {

struct supervisor_settings {
  std::chrono::milliseconds terminate_grace{3000};
  std::chrono::milliseconds kill_grace{2000};
};

}  // namespace remex::config
