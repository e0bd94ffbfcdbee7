// CAF 0.17.6 registers every local actor whose handle or message crosses
// BASP under its id, and delivers a message for that id from any connected
// node to it; scheduled_actor quits on an exit_msg with reason kill before
// any handler runs. So a token holder could end a node's actors by guessing
// ids. wire_guarded drops, in enqueue (the last place an actor sees a
// message before that), every exit_msg that did not come from an actor of
// this node or from a remote actor it is linked to: a remote sender's, or
// one naming its target as its source (what anon_send_exit sends, and all
// an anonymous remote sender can say).
// Exits from links and from this node's actors still arrive; this node
// never anon_send_exits a guarded actor.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/default_attachable.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <mutex>

namespace remex::actors {

template <class Base>
class wire_guarded : public Base {
 public:
  using Base::Base;
  using Base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && ptr->content().template match_elements<caf::exit_msg>()) {
      auto& em = ptr->content().template get_as<caf::exit_msg>(0);
      if (!em.source || em.source == this->address() ||
          (em.source.node() != this->home_system().node() &&
           !linked_to(em.source)))
        return;
    }
    Base::enqueue(std::move(ptr), eu);
  }

 private:
  // A link to a remote actor (a requester's) still ends this one when that
  // actor or its node goes away.
  bool linked_to(const caf::actor_addr& other) {
    caf::default_attachable::observe_token tk{other,
                                              caf::default_attachable::link};
    std::unique_lock<std::mutex> guard{this->mtx_};
    return this->detach_impl({caf::attachable::token::observer, &tk}, true,
                             true) > 0;
  }
};

// The self pointer of a stateful actor behind Handle that is guarded so.
template <class Handle, class State>
using guarded_pointer =
    caf::stateful_actor<State, wire_guarded<typename Handle::base>>*;

}  // namespace remex::actors
