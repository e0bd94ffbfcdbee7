// CAF 0.17.6 registers every local actor whose handle or message crossed
// BASP under its id, and delivers a message for any registered id from any
// connected node (remote_message_handler.hpp). Ids are small sequential
// numbers, so every token holder (any client) could send a node's actors
// their internal messages (shutdown, done, cancel, signal 9, eof …) or
// system messages (an exit_msg with reason kill, a bare error: both end an
// actor before any handler runs). enqueue is the last place an actor sees
// a message before that, so wire_guarded decides there:
//  - a response passes: CAF drops one nobody awaits;
//  - an exit_msg from an actor on another node is dropped, whatever built
//    it: no actor of a node links to a remote one, and BASP links a proxy
//    to any local id on a peer's request (its link_atom interception), so
//    such an exit only comes from a peer's wish;
//  - content built in this process passes: CAF builds link and monitor
//    messages locally even for remote actors, and delegating makes a new
//    local element (that is how the public face hands requests on);
//  - content that came off the wire (message::load always builds a
//    dynamic_message_data; local sends never do) passes only from an actor
//    on a node this actor admitted, and only as one of remex's own
//    messages, which all start with an atom (interfaces.hpp): never a
//    system message. A refused request is answered with an error at once,
//    so its sender does not hang; the rest is dropped without a log line,
//    so that a flood cannot fill the logs.
// An actor admits a node when it hands its handle to an actor there (the
// input pump to the requester's source, the file service to its
// requester …), before the handle leaves: enqueue runs on any thread.
// BASP takes the sender's node from the message it carries, so this keeps
// out guesses, not a peer that forges another node's id.
#pragma once

#include <algorithm>
#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/detail/dynamic_message_data.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/node_id.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <mutex>
#include <vector>

namespace remex::actors {

// Whether a message's content came off the wire: message::load always
// builds a dynamic_message_data, local sends never do (an empty message,
// which looks like one, is harmless to treat as such).
inline bool from_wire(const caf::mailbox_element& x) {
  // The const overload: the other one of a wrapped message returns the
  // message, not the data that tells where it came from.
  return dynamic_cast<const caf::detail::dynamic_message_data*>(&x.content()) !=
         nullptr;
}

// One of remex's own messages, which all start with an atom
// (interfaces.hpp), never a system message (exit, down, error, CAF's sys
// queries …).
inline bool remex_message(const caf::mailbox_element& x) {
  const auto& c = x.content();
  return !c.empty() && c.match_element<caf::atom_value>(0) &&
         c.get_as<caf::atom_value>(0) != caf::atom("sys");
}

// Answers a request that is not let in with an error at once, so that its
// sender does not wait for an answer that never comes; anything else is
// dropped.
inline void refuse(const caf::mailbox_element& x, caf::execution_unit* eu) {
  if (x.sender && x.mid.is_request())
    x.sender->enqueue(
        nullptr, x.mid.response_id(),
        caf::make_message(caf::make_error(caf::sec::unexpected_message)), eu);
}

// The nodes whose actors may send an actor messages over the wire.
class wire_door {
 public:
  void admit(const caf::node_id& node) {
    if (node == caf::none) return;
    std::lock_guard<std::mutex> guard{door_mtx_};
    if (std::find(admitted_.begin(), admitted_.end(), node) == admitted_.end())
      admitted_.push_back(node);
  }

  bool admits(const caf::node_id& node) const {
    std::lock_guard<std::mutex> guard{door_mtx_};
    return std::find(admitted_.begin(), admitted_.end(), node) !=
           admitted_.end();
  }

 private:
  mutable std::mutex door_mtx_;
  std::vector<caf::node_id> admitted_;  // a handful at most
};

// Base first: CAF finds the actor at the start of its storage
// (actor_storage.hpp), so abstract_actor must stay at offset 0.
template <class Base>
class wire_guarded : public Base, public wire_door {
 public:
  using Base::Base;
  using Base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (!ptr || ptr->mid.is_response()) {
      Base::enqueue(std::move(ptr), eu);
      return;
    }
    const auto& x = *ptr;
    if (x.content().template match_elements<caf::exit_msg>()) {
      auto& em = x.content().template get_as<caf::exit_msg>(0);
      if (em.source && em.source.node() != this->home_system().node()) return;
    }
    if (!from_wire(x) || admitted(x)) {
      Base::enqueue(std::move(ptr), eu);
      return;
    }
    refuse(x, eu);
  }

 private:
  bool admitted(const caf::mailbox_element& x) const {
    // A sender on this node over the wire is forged (BASP takes a routed
    // message's source node from the message).
    return x.sender && x.sender->node() != this->home_system().node() &&
           admits(x.sender->node()) && remex_message(x);
  }
};

// The self pointer of a stateful actor behind Handle that is guarded so.
template <class Handle, class State>
using guarded_pointer =
    caf::stateful_actor<State, wire_guarded<typename Handle::base>>*;

// Lets the actors on peer's node talk to the actor behind h over the wire,
// if it is guarded so (peer: a handle; nothing when either is null). Call
// it before h is sent there: a message may arrive at once.
template <class Handle, class PeerHandle>
void admit(const Handle& h, const PeerHandle& peer) {
  if (!h || !peer) return;
  if (auto* door =
          dynamic_cast<wire_door*>(caf::actor_cast<caf::abstract_actor*>(h)))
    door->admit(peer.node());
}

}  // namespace remex::actors
