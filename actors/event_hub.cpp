#include "actors/event_hub.hpp"

#include <algorithm>
#include <caf/result.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <chrono>
#include <set>

#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

// A peer that does not confirm a relay's subscription in time is not
// waited for: its events are missed until it comes up again. A console's
// watch is answered once every subscription made for it is confirmed or
// given up, so that what happens on a peer after "watching" is seen.
constexpr auto subscribe_timeout = std::chrono::seconds(3);

struct watcher {
  event_sink_actor sink;
  bool cluster = false;  // a console: peers' events and node up/down too
};

struct hub_state {
  std::vector<watcher> watchers;
  peer_routes routes;
  event_sink_actor relay;          // while a console watches the cluster
  std::set<std::string> upstream;  // peers the relay is subscribed at
  std::size_t subscribing = 0;     // of those, not yet confirmed
  std::vector<caf::typed_response_promise<bool>> confirming;  // consoles
  std::shared_ptr<std::atomic<std::size_t>> watching;
  static inline const char* name = "event_hub";
};

using hub_ptr = guarded_pointer<event_hub_actor, hub_state>;

struct relay_state {
  static inline const char* name = "event_relay";
};

event_sink_actor::behavior_type relay(
    guarded_pointer<event_sink_actor, relay_state> self, event_hub_actor hub) {
  // Peers hold its handle: only this node ends it.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.source && em.source.node() != self->node()) return;
    self->quit(em.reason);
  });
  return {
      [self, hub](event_atom, console_row& row) {
        self->send(hub, relayed_atom::value, std::move(row));
      },
  };
}

bool node_event(const console_row& row) {
  return !row.values.empty() && row.values[0].rfind("node ", 0) == 0;
}

bool any_console(hub_ptr self) {
  for (auto& w : self->state.watchers)
    if (w.cluster) return true;
  return false;
}

void subscribe_upstream(hub_ptr self) {
  auto& st = self->state;
  if (!st.relay) return;
  for (auto& r : st.routes) {
    if (!st.upstream.insert(r.name).second) continue;
    // The peer's hub sends it events over the wire.
    admit(st.relay, r.broker);
    ++st.subscribing;
    auto answered = [self] {
      auto& st = self->state;
      if (--st.subscribing > 0) return;
      for (auto& rp : st.confirming) rp.deliver(true);
      st.confirming.clear();
    };
    self->request(r.broker, subscribe_timeout, watch_atom::value, st.relay,
                  false)
        .then([answered](bool) { answered(); },
              [answered](caf::error&) { answered(); });
  }
}

event_hub_actor::behavior_type hub(
    hub_ptr self, std::shared_ptr<std::atomic<std::size_t>> watching) {
  self->state.watching = std::move(watching);
  // Ends with its broker, and ends its relay: CAF waits for every actor at
  // shutdown.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (self->state.relay)
      self->send_exit(self->state.relay, caf::exit_reason::user_shutdown);
    self->quit(em.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& ws = self->state.watchers;
    ws.erase(std::remove_if(ws.begin(), ws.end(),
                            [&](const watcher& w) {
                              return w.sink.address() == dm.source;
                            }),
             ws.end());
    auto& st = self->state;
    st.watching->store(ws.size());
    if (st.relay && !any_console(self)) {
      // Each peer's hub monitors the relay: its end unsubscribes it there.
      self->send_exit(st.relay, caf::exit_reason::user_shutdown);
      st.relay = nullptr;
      st.upstream.clear();
    }
  });
  return {
      [self](event_atom, console_row& row) {
        bool node = node_event(row);
        for (auto& w : self->state.watchers)
          if (w.cluster || !node) self->send(w.sink, event_atom::value, row);
      },
      [self](relayed_atom, console_row& row) {
        for (auto& w : self->state.watchers)
          if (w.cluster) self->send(w.sink, event_atom::value, row);
      },
      [self](watch_atom, event_sink_actor& sink,
             bool cluster) -> caf::result<bool> {
        if (!sink) return false;
        self->monitor(sink);
        self->state.watchers.push_back({std::move(sink), cluster});
        auto& st = self->state;
        st.watching->store(st.watchers.size());
        if (cluster && !st.relay) {
          st.relay = self->spawn(relay, event_hub_actor{self});
          subscribe_upstream(self);
        }
        if (cluster && st.subscribing > 0) {
          st.confirming.push_back(self->make_response_promise<bool>());
          return st.confirming.back();
        }
        return true;
      },
      [self](routes_atom, peer_routes& routes) {
        auto& st = self->state;
        st.routes = std::move(routes);
        // A peer that went and comes back has forgotten the relay.
        for (auto i = st.upstream.begin(); i != st.upstream.end();) {
          bool live = false;
          for (auto& r : st.routes) live = live || r.name == *i;
          i = live ? std::next(i) : st.upstream.erase(i);
        }
        subscribe_upstream(self);
      },
  };
}

}  // namespace

event_hub_actor spawn_event_hub(
    caf::local_actor* parent,
    std::shared_ptr<std::atomic<std::size_t>> watching) {
  return parent->spawn(hub, std::move(watching));
}

console_row event_row(const std::string& event, const std::string& node) {
  console_row r;
  r.add("event", event);
  r.add("node", node);
  return r;
}

}  // namespace remex::actors
