#include "actors/peer_forwarder.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/log.hpp"
#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

struct forwarder_state {
  broker_actor peer;
  std::string peer_name;
  std::vector<std::string> path;
  caf::actor_addr requester;
  caf::typed_response_promise<outcome> answer;
  static inline const char* name = "peer_forwarder";
};

using self_ptr = guarded_pointer<forwarder_actor, forwarder_state>;

outcome lost(const std::string& peer_name) {
  return outcome::make_failed(
      transport::failure_kind::lost, 255,
      "node " + peer_name + " lost; the command's fate is unknown");
}

forwarder_actor::behavior_type forwarder(self_ptr self, broker_actor peer,
                                         std::string peer_name,
                                         std::vector<std::string> path) {
  auto& st = self->state;
  st.peer = std::move(peer);
  st.peer_name = std::move(peer_name);
  st.path = std::move(path);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source == st.peer.address()) {
      log_actors()->warn("node {} lost with a request of ours running",
                         st.peer_name);
      if (st.answer.pending()) st.answer.deliver(lost(st.peer_name));
    }
    // The requester gone: quitting is what tells the peer's supervisor.
    self->quit();
  });
  // The node shuts down with the request still running (after its grace).
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.source && em.source.node() != self->node()) return;
    auto& st = self->state;
    if (st.answer.pending())
      st.answer.deliver(outcome::make_failed(transport::failure_kind::cluster,
                                             255, "broker shutting down"));
    self->quit(em.reason);
  });
  return {
      [self](exec_atom, exec_request& req,
             endpoints& ends) -> caf::result<outcome> {
        auto& st = self->state;
        // One request per forwarder: its handle reaches the peer, which
        // must not make it ask again.
        if (st.requester || st.answer.pending())
          return caf::make_error(caf::sec::runtime_error, "already forwarding");
        if (auto sender = self->current_sender()) {
          st.requester = caf::actor_cast<caf::actor_addr>(sender);
          self->monitor(caf::actor_cast<caf::actor>(sender));
        }
        self->monitor(st.peer);
        st.answer = self->make_response_promise<outcome>();
        self->request(st.peer, caf::infinite, exec_atom::value, std::move(req),
                      std::move(ends), st.path)
            .then(
                [self](outcome& o) {
                  self->state.answer.deliver(std::move(o));
                  self->quit();
                },
                [self](caf::error&) {
                  auto& st = self->state;
                  st.answer.deliver(lost(st.peer_name));
                  self->quit();
                });
        return st.answer;
      },
  };
}

using file_answer =
    caf::result<std::uint8_t, std::string, std::string,
                std::vector<std::int32_t>, std::vector<std::string>>;
using file_promise =
    caf::typed_response_promise<std::uint8_t, std::string, std::string,
                                std::vector<std::int32_t>,
                                std::vector<std::string>>;

struct files_forwarder_state {
  bool asked = false;
  files_actor session;  // the peer's, once open
  static inline const char* name = "peer_files_forwarder";
};

using files_self_ptr =
    guarded_pointer<files_forwarder_actor, files_forwarder_state>;

// Asked, not delegated: the peer's session must see this node as the
// sender, the one it takes messages from.
template <class Atom, class Arg>
file_answer relay_to_session(files_self_ptr self, Atom atom, Arg arg) {
  auto& session = self->state.session;
  if (!session)
    return caf::make_error(caf::sec::runtime_error, "no file session");
  auto rp = self->make_response_promise<std::uint8_t, std::string, std::string,
                                        std::vector<std::int32_t>,
                                        std::vector<std::string>>();
  self->request(session, caf::infinite, atom, std::move(arg))
      .then(
          [rp](std::uint8_t k, std::string& message, std::string& frame,
               std::vector<std::int32_t>& levels,
               std::vector<std::string>& lines) mutable {
            rp.deliver(k, std::move(message), std::move(frame),
                       std::move(levels), std::move(lines));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

files_forwarder_actor::behavior_type files_forwarder(
    files_self_ptr self, broker_actor peer, std::vector<std::string> path) {
  // The requester gone, the peer, or its session: quitting tells the
  // peer's session (it monitors this actor), and the requester (it
  // monitors this one).
  self->set_down_handler([self](caf::down_msg&) { self->quit(); });
  return {
      [self, peer, path](files_atom,
                         exec_request& req) -> caf::result<files_actor> {
        if (self->state.asked)
          return caf::make_error(caf::sec::runtime_error, "already forwarding");
        self->state.asked = true;
        auto requester = caf::actor_cast<caf::actor>(self->current_sender());
        if (requester) self->monitor(requester);
        self->monitor(peer);
        auto rp = self->make_response_promise<files_actor>();
        self->request(peer, caf::infinite, files_atom::value, std::move(req),
                      path)
            .then(
                [self, rp, requester](files_actor& f) mutable {
                  self->state.session = f;
                  self->monitor(f);
                  files_forwarder_actor me = self;
                  admit(me, requester);
                  rp.deliver(files_actor{me});
                },
                [self, rp](caf::error& err) mutable {
                  rp.deliver(std::move(err));
                  self->quit();
                });
        return rp;
      },
      [self](file_atom a, std::string& bytes) -> file_answer {
        return relay_to_session(self, a, std::move(bytes));
      },
      [self](paths_atom a, std::vector<std::string>& dirs) -> file_answer {
        return relay_to_session(self, a, std::move(dirs));
      },
      [self](close_atom) {
        auto& st = self->state;
        if (st.session) self->send(st.session, close_atom::value);
        self->quit();
      },
  };
}

}  // namespace

files_forwarder_actor spawn_files_forwarder(caf::local_actor* parent,
                                            broker_actor peer,
                                            std::vector<std::string> path) {
  return parent->spawn(files_forwarder, std::move(peer), std::move(path));
}

forwarder_actor spawn_forwarder(caf::local_actor* parent, broker_actor peer,
                                std::string peer_name,
                                std::vector<std::string> path) {
  return parent->spawn(forwarder, std::move(peer), std::move(peer_name),
                       std::move(path));
}

}  // namespace remex::actors
