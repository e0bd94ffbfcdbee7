// remex run's signals: what its sigwait thread takes goes to the execution's
// signal target. The CLI's own, unlike fd_bridge: a library must not decide
// which signals a program forwards or when one ends it.
#pragma once

#include <atomic>
#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <memory>

#include "actors/interfaces.hpp"

namespace remex::cli {

struct signal_relay {
  // Goes into the request's endpoints.
  actors::signal_source_actor source;
  // Where the signal thread sends (signal_atom, n); signals that arrive
  // before the command runs are held until then.
  caf::actor input;
  // Set once the execution told the relay its signal target: from then on
  // a signal is the command's, no longer remex's.
  std::shared_ptr<const std::atomic<bool>> attached;
};

signal_relay spawn_signal_relay(caf::actor_system& sys);

}  // namespace remex::cli
