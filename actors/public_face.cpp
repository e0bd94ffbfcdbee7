#include "actors/public_face.hpp"

#include <caf/actor_system.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

using strings = std::vector<std::string>;

// In CAF 0.17.6 a remote exit_msg is no special BASP message: it arrives as
// an ordinary message, and scheduled_actor's dispatch quits on reason kill
// before any exit handler runs (scheduled_actor.cpp, categorize); a bare
// error does the same through the default error handler. The face then
// stopped answering without its end reaching anybody, so remexd went deaf.
// enqueue is the last place an actor sees a message before that, so the
// face drops every exit_msg there (nothing links to it, and it ends only
// when the broker does: its down handler) and refuses from the wire
// whatever is not one of remex's messages (wire_guard.hpp). Unlike the
// node's other actors it takes those from anybody: it is the door.
class face_actor : public broker_actor::base {
 public:
  face_actor(caf::actor_config& cfg, broker_actor broker)
      : broker_actor::base(cfg), broker_(std::move(broker)) {}

  using broker_actor::base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && ptr->content().match_elements<caf::exit_msg>()) return;
    if (ptr && !ptr->mid.is_response() && from_wire(*ptr) &&
        !remex_message(*ptr)) {
      refuse(*ptr, eu);
      return;
    }
    broker_actor::base::enqueue(std::move(ptr), eu);
  }

  behavior_type make_behavior() override {
    monitor(broker_);
    set_down_handler([this](caf::down_msg&) { quit(); });
    // Delegated, so the broker sees the requester as the sender (it
    // monitors it: file sessions, forwarded requests). The answer then
    // comes from the broker, whose id the requester learns (CAF 0.17.6
    // registers every sender that crosses BASP); a delegated message is
    // built here, so the broker takes it, while wire_guard.hpp keeps out
    // whatever reaches the broker's id straight off the wire.
    return {
        [this](exec_atom a, exec_request& r, endpoints& e) {
          return delegate(broker_, a, std::move(r), std::move(e));
        },
        [this](exec_atom a, exec_request& r, endpoints& e, strings& p) {
          return delegate(broker_, a, std::move(r), std::move(e), std::move(p));
        },
        [this](peer_atom a, std::string& n, strings& s, caf::actor& h) {
          return delegate(broker_, a, std::move(n), std::move(s), std::move(h));
        },
        [this](list_atom a) { return delegate(broker_, a); },
        [this](console_atom a, strings& w, bool cluster) {
          return delegate(broker_, a, std::move(w), cluster);
        },
        [this](files_atom a, exec_request& r) {
          return delegate(broker_, a, std::move(r));
        },
        [this](files_atom a, exec_request& r, strings& p) {
          return delegate(broker_, a, std::move(r), std::move(p));
        },
        [this](watch_atom a, event_sink_actor& sink, bool cluster) {
          return delegate(broker_, a, std::move(sink), cluster);
        },
        [this](groups_atom a) { return delegate(broker_, a); },
        [this](ping_atom a) { return delegate(broker_, a); },
    };
  }

 private:
  broker_actor broker_;
};

}  // namespace

broker_actor spawn_public_face(caf::actor_system& sys, broker_actor broker) {
  return sys.spawn<face_actor>(std::move(broker));
}

}  // namespace remex::actors
