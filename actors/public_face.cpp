#include "actors/public_face.hpp"

#include <caf/actor_system.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace remex::actors {

namespace {

using strings = std::vector<std::string>;

// In CAF 0.17.6 a remote exit_msg is no special BASP message: it arrives as
// an ordinary message, and scheduled_actor's dispatch quits on reason kill
// before any exit handler runs (scheduled_actor.cpp, categorize). The face
// then stopped answering without its end reaching anybody, so remexd went
// deaf. enqueue is the last place an actor sees a message before that, so
// the face drops every exit_msg there: nothing links to it, and it ends
// only when the broker does (its down handler).
class face_actor : public broker_actor::base {
 public:
  face_actor(caf::actor_config& cfg, broker_actor broker)
      : broker_actor::base(cfg), broker_(std::move(broker)) {}

  using broker_actor::base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (ptr && ptr->content().match_elements<caf::exit_msg>()) return;
    broker_actor::base::enqueue(std::move(ptr), eu);
  }

  behavior_type make_behavior() override {
    monitor(broker_);
    set_down_handler([this](caf::down_msg&) { quit(); });
    // Answers come from the face itself, never delegated: CAF 0.17.6
    // registers the sender of every message that crosses BASP under its id
    // (basp_broker.cpp), and any peer may then address it by that id. A
    // delegated answer would come from the broker (or the hub, directory,
    // forwarder it delegates to) and so hand them to every requester.
    return {
        [this](exec_atom a, exec_request& r, endpoints& e) {
          return relay<outcome>(a, std::move(r), std::move(e));
        },
        [this](exec_atom a, exec_request& r, endpoints& e, strings& p) {
          return relay<outcome>(a, std::move(r), std::move(e), std::move(p));
        },
        [this](peer_atom a, std::string& n, strings& s, caf::actor& h) {
          return relay<std::string, strings>(a, std::move(n), std::move(s),
                                             std::move(h));
        },
        [this](list_atom a) { return relay<std::vector<execution_info>>(a); },
        [this](console_atom a, strings& w, bool cluster) {
          return relay<std::vector<console_row>>(a, std::move(w), cluster);
        },
        [this](files_atom a, exec_request& r) {
          return relay<files_actor>(a, std::move(r));
        },
        [this](files_atom a, exec_request& r, strings& p) {
          return relay<files_actor>(a, std::move(r), std::move(p));
        },
        [this](watch_atom a, event_sink_actor& sink, bool cluster) {
          return relay<bool>(a, std::move(sink), cluster);
        },
        [this](groups_atom a) {
          return relay<std::map<std::string, std::string>>(a);
        },
        [this](ping_atom a) { return relay<bool>(a); },
    };
  }

 private:
  template <class... Rs, class... Ts>
  caf::typed_response_promise<Rs...> relay(Ts&&... xs) {
    auto rp = make_response_promise<Rs...>();
    request(broker_, caf::infinite, std::forward<Ts>(xs)...)
        .then([rp](Rs&... rs) mutable { rp.deliver(std::move(rs)...); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }

  broker_actor broker_;
};

}  // namespace

broker_actor spawn_public_face(caf::actor_system& sys, broker_actor broker) {
  return sys.spawn<face_actor>(std::move(broker));
}

}  // namespace remex::actors
