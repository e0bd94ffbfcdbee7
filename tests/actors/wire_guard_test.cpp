// wire_guard.hpp under CAF's deterministic scheduler. What BASP delivers is
// stood in for by a message built like message::load builds one (a
// message_builder's dynamic_message_data), sent as a proxy of an actor on
// another node: from a node the actor did not admit it is dropped; from
// one it admitted it passes, unless it is a system message; one claiming a
// sender on this node is refused, and a refused request is answered with
// an error at once. Local messages pass, and an exit from a remote actor
// never does, whoever built it.
#define CAF_SUITE wire_guard

#include "actors/wire_guard.hpp"

#include <caf/forwarding_actor_proxy.hpp>
#include <caf/message_builder.hpp>
#include <caf/unit.hpp>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/types.hpp"
#include "caf/test/dsl.hpp"

using namespace remex::actors;

namespace {

using seen_list = std::vector<std::int32_t>;

struct recorder_state {
  static inline const char* name = "recorder";
};

signal_actor::behavior_type recorder(
    guarded_pointer<signal_actor, recorder_state>,
    std::shared_ptr<seen_list> seen) {
  return {[seen](signal_atom, std::int32_t n) { seen->push_back(n); }};
}

// Stands for the BASP broker behind a proxy: drops what the proxy tells it.
// The unused caf::unit_t: CAF 0.17.6 binds a reference to a null argument
// tuple when a function actor is spawned without arguments, which UBSan stops.
caf::behavior basp_stand_in(caf::event_based_actor* self, caf::unit_t) {
  self->set_default_handler(caf::drop);
  return {[](int) {}};
}

// A message as BASP hands it over: deserialized into a dynamic_message_data.
template <class... Ts>
caf::message off_the_wire(Ts... xs) {
  caf::message_builder mb;
  (mb.append(std::move(xs)), ...);
  return mb.move_to_message();
}

struct config : caf::actor_system_config {
  config() { remex::actors::add_message_types(*this); }
};

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<seen_list> seen = std::make_shared<seen_list>();
  signal_actor guarded;
  caf::actor untyped;  // the same actor, to send it anything
  caf::actor remote;   // a proxy of actor 7 on node other

  fixture() {
    guarded = sys.spawn(recorder, seen);
    untyped = caf::actor_cast<caf::actor>(guarded);
    auto other =
        caf::make_node_id(4242, "0102030405060708090a0b0c0d0e0f1011121314");
    CAF_REQUIRE(other);
    caf::actor_config cfg;
    remote = caf::actor_cast<caf::actor>(
        caf::make_actor<caf::forwarding_actor_proxy, caf::strong_actor_ptr>(
            7, *other, &sys, cfg, sys.spawn(basp_stand_in, caf::unit)));
    run();
  }

  // Whether the actor still takes a local message.
  bool alive() {
    seen->clear();
    self->send(guarded, signal_atom::value, std::int32_t{99});
    run();
    return *seen == seen_list{99};
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(wire_guard_tests, fixture)

CAF_TEST(a local message passes) {
  self->send(guarded, signal_atom::value, std::int32_t{1});
  run();
  CAF_CHECK_EQUAL(*seen, seen_list{1});
}

CAF_TEST(a wire message from a node not admitted is dropped) {
  caf::send_as(remote, untyped,
               off_the_wire(signal_atom::value, std::int32_t{2}));
  run();
  CAF_CHECK(seen->empty());
  CAF_CHECK(alive());
}

CAF_TEST(an admitted node passes its messages but no system message) {
  admit(guarded, remote);
  caf::send_as(remote, untyped,
               off_the_wire(signal_atom::value, std::int32_t{3}));
  run();
  CAF_CHECK_EQUAL(*seen, seen_list{3});
  caf::send_as(
      remote, untyped,
      off_the_wire(caf::exit_msg{remote.address(), caf::exit_reason::kill}));
  caf::send_as(remote, untyped,
               off_the_wire(caf::make_error(caf::sec::runtime_error)));
  run();
  CAF_CHECK(alive());
}

CAF_TEST(an exit from a remote actor is dropped even when built here) {
  caf::anon_send(untyped,
                 caf::exit_msg{remote.address(), caf::exit_reason::kill});
  run();
  CAF_CHECK(alive());
}

CAF_TEST(a wire request claiming this node is refused with an error at once) {
  admit(guarded, caf::actor_cast<caf::actor>(self));
  bool refused = false;
  auto answer =
      self->request(untyped, caf::infinite,
                    off_the_wire(signal_atom::value, std::int32_t{5}));
  // Whatever the actor makes of it is in self's mailbox before it waits.
  run();
  answer.receive(
      [&](caf::message&) {},
      [&](caf::error& err) { refused = err == caf::sec::unexpected_message; });
  CAF_CHECK(refused);
  CAF_CHECK(seen->empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
