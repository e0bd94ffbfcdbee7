#include "actors/public_face.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace remex::actors {

namespace {

broker_actor::behavior_type face(broker_actor::pointer self,
                                 broker_actor broker) {
  // Exits come from the broker's end (monitored below), never from a peer.
  self->set_exit_handler([](caf::exit_msg&) {});
  self->monitor(broker);
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  using strings = std::vector<std::string>;
  return {
      [self, broker](exec_atom a, exec_request& r, endpoints& e) {
        return self->delegate(broker, a, std::move(r), std::move(e));
      },
      [self, broker](exec_atom a, exec_request& r, endpoints& e, strings& p) {
        return self->delegate(broker, a, std::move(r), std::move(e),
                              std::move(p));
      },
      [self, broker](peer_atom a, std::string& n, strings& s, caf::actor& b) {
        return self->delegate(broker, a, std::move(n), std::move(s),
                              std::move(b));
      },
      [self, broker](list_atom a) { return self->delegate(broker, a); },
      [self, broker](console_atom a, strings& w, bool cluster) {
        return self->delegate(broker, a, std::move(w), cluster);
      },
      [self, broker](files_atom a, exec_request& r) {
        return self->delegate(broker, a, std::move(r));
      },
      [self, broker](files_atom a, exec_request& r, strings& p) {
        return self->delegate(broker, a, std::move(r), std::move(p));
      },
      [self, broker](watch_atom a, event_sink_actor& sink, bool cluster) {
        return self->delegate(broker, a, std::move(sink), cluster);
      },
      [self, broker](groups_atom a) { return self->delegate(broker, a); },
      [self, broker](ping_atom a) { return self->delegate(broker, a); },
  };
}

}  // namespace

broker_actor spawn_public_face(caf::actor_system& sys, broker_actor broker) {
  return sys.spawn(face, std::move(broker));
}

}  // namespace remex::actors
