#include "node/link_watch.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/spawn_options.hpp>

namespace remex::node {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

struct watch_state {
  int missed = 0;
};

caf::behavior watch(caf::stateful_actor<watch_state>* self,
                    actors::broker_actor broker, caf::timespan interval,
                    int misses) {
  self->monitor(broker);
  self->set_down_handler([self](caf::down_msg& dm) {
    self->quit(dm.reason ? dm.reason
                         : caf::make_error(caf::sec::request_receiver_down));
  });
  self->send(self, tick_atom::value);
  return {
      [=](tick_atom) {
        // Each ask waits one interval: a late answer counts as a miss, so
        // that at most one ask is outstanding at a time.
        self->request(broker, interval, actors::ping_atom::value)
            .then(
                [=](bool) {
                  self->state.missed = 0;
                  self->delayed_send(self, interval, tick_atom::value);
                },
                [=](caf::error&) {
                  if (++self->state.missed >= misses)
                    self->quit(caf::make_error(caf::sec::connection_timeout));
                  else
                    self->send(self, tick_atom::value);
                });
      },
  };
}

}  // namespace

caf::actor spawn_link_watch(caf::actor_system& sys,
                            const actors::broker_actor& broker,
                            caf::timespan interval, int misses) {
  return sys.spawn<caf::hidden>(watch, broker, interval, misses);
}

}  // namespace remex::node
