#include "tools/remex/signal_relay.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <vector>

namespace remex::cli {

using namespace remex::actors;

namespace {

struct relay_state {
  signal_actor target;
  std::vector<std::int32_t> held;
  std::shared_ptr<std::atomic<bool>> attached;
};

// What this process's signal thread sends, plus what the supervisor does.
using signal_relay_actor =
    signal_source_actor::extend<caf::reacts_to<signal_atom, std::int32_t>>;

signal_relay_actor::behavior_type relay(
    signal_relay_actor::stateful_pointer<relay_state> self,
    std::shared_ptr<std::atomic<bool>> attached) {
  self->state.attached = std::move(attached);
  return {
      [self](attach_atom, signal_actor& target) {
        *self->state.attached = true;
        self->state.target = target;
        for (auto n : self->state.held)
          self->send(target, signal_atom::value, n);
        self->state.held.clear();
      },
      [self](signal_atom, std::int32_t n) {
        if (self->state.target)
          self->send(self->state.target, signal_atom::value, n);
        else
          self->state.held.push_back(n);
      },
  };
}

}  // namespace

signal_relay spawn_signal_relay(caf::actor_system& sys) {
  auto attached = std::make_shared<std::atomic<bool>>(false);
  auto r = sys.spawn(relay, attached);
  return {signal_source_actor{r}, caf::actor_cast<caf::actor>(r),
          std::move(attached)};
}

}  // namespace remex::cli
