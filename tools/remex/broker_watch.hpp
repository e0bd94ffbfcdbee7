// Waiting on the broker while watching that it can still be reached. In CAF
// 0.17 a request to an actor on another node is never answered when that
// node dies (its proxy drops what is sent to it; nothing bounces), so a
// remexd that is killed would leave the CLI waiting for ever: whoever waits
// on the broker also monitors its liveness (broker_client::liveness: a
// remexd's link watch, or the embedded broker itself) and gives up when it
// goes down. Each command words the loss itself.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <initializer_list>
#include <utility>
#include <vector>

namespace remex::cli {

// lost(reason) runs when the broker can no longer be reached (or when
// anything else self monitors goes down): for an actor that holds many
// requests to it.
template <class Self, class Lost>
void on_broker_lost(Self* self, const caf::actor& liveness, Lost lost) {
  self->monitor(liveness);
  self->set_down_handler([lost](caf::down_msg& dm) { lost(dm.reason); });
}

namespace detail {

// A reply handler that ends its asker after the handler ran, so that a down
// that follows is no second answer. Spelled with the handler's own
// signature: CAF matches reply handlers by their argument types.
template <class F,
          class Sig = typename caf::detail::get_callable_trait<F>::fun_sig>
struct then_quit;

template <class F, class R, class... Ts>
struct then_quit<F, R(Ts...)> {
  F f;
  caf::event_based_actor* self;
  void operator()(Ts... xs) const {
    f(std::forward<Ts>(xs)...);
    self->quit();
  }
};

}  // namespace detail

// Asks dest from a short-lived actor of its own, and answers exactly once:
// on_reply with the reply, on_error with the request's error, or
// on_lost(reason) when the broker (liveness) or one of `also` goes down
// first. Several may be in flight at once.
template <class Dest, class OnReply, class OnError, class OnLost, class... Args>
void ask_watched(caf::actor_system& sys, const caf::actor& liveness,
                 std::initializer_list<caf::actor> also, Dest dest,
                 OnReply on_reply, OnError on_error, OnLost on_lost,
                 Args... args) {
  // watched goes as a spawn argument: CAF 0.17.6 binds a reference to a null
  // argument tuple when a function actor is spawned without any
  // (caf/detail/init_fun_factory.hpp), undefined behaviour that UBSan stops at.
  sys.spawn(
      [=](caf::event_based_actor* self,
          const std::vector<caf::actor>& watched) mutable {
        for (auto& w : watched) self->monitor(w);
        on_broker_lost(self, liveness, [=](const caf::error& reason) {
          on_lost(reason);
          self->quit();
        });
        self->request(dest, caf::infinite, std::move(args)...)
            .then(detail::then_quit<OnReply>{std::move(on_reply), self},
                  [=](caf::error& e) {
                    on_error(e);
                    self->quit();
                  });
      },
      std::vector<caf::actor>(also));
}

// For a blocking asker whose identity matters (the broker ties what it opens
// to the requester, so the asker must outlive the answer): waits for the
// reply to h like h.receive(on_reply, on_error), but when the broker
// (liveness) goes down first, a watcher answers the request itself with
// sec::request_receiver_down, so the wait ends.
template <class Handle, class OnReply, class OnError>
void receive_watched(caf::actor_system& sys, const caf::actor& liveness,
                     Handle h, OnReply on_reply, OnError on_error) {
  auto asker = caf::actor_cast<caf::strong_actor_ptr>(h.self());
  auto id = h.id();
  // liveness goes as a spawn argument: CAF 0.17.6 binds a reference to a
  // null argument tuple when a function actor is spawned without any
  // (caf/detail/init_fun_factory.hpp), undefined behaviour UBSan stops at.
  auto watcher = sys.spawn(
      [asker, id](caf::event_based_actor* self,
                  const caf::actor& watched) -> caf::behavior {
        on_broker_lost(self, watched, [=](const caf::error&) {
          asker->enqueue(caf::make_mailbox_element(
                             nullptr, id, {},
                             caf::make_error(caf::sec::request_receiver_down)),
                         self->context());
          self->quit();
        });
        return {[](caf::unit_t) {}};  // nothing but the down comes
      },
      liveness);
  h.receive(std::move(on_reply), std::move(on_error));
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
}

}  // namespace remex::cli
