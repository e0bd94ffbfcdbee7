#include "actors/peer_directory.hpp"

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <chrono>
#include <map>
#include <set>

#include "actors/log.hpp"
#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

using std::chrono::milliseconds;

// The directory as its own timers see it.
using directory_impl_actor =
    peer_directory_actor::extend<caf::reacts_to<dial_atom, std::size_t>>;

constexpr milliseconds first_retry{500};
constexpr milliseconds longest_retry{30'000};
// A connect or greeting that takes longer than this failed.
constexpr auto dial_timeout = std::chrono::seconds(10);

struct configured_peer {
  std::string host;
  std::uint16_t port = 0;
  std::string label;  // as configured
  milliseconds backoff{0};
  bool dialing = false;
  caf::node_id node;  // while connected
};

struct known_peer {
  std::string name;
  std::vector<std::string> serves;
  broker_actor broker;
  std::size_t order = 0;
  std::string address;  // as configured, or where it connected from
};

struct directory_state {
  cluster_settings settings;
  broker_admin_actor broker;
  broker_actor face;  // what peers get of this node; broker when none
  caf::actor connector;
  std::vector<configured_peer> configured;
  std::map<caf::node_id, known_peer> peers;
  std::size_t joined = 0;  // peers that came by themselves, for their order
  static inline const char* name = "peer_directory";
};

using self_ptr = guarded_pointer<directory_impl_actor, directory_state>;

configured_peer parse(const std::string& address) {
  configured_peer p;
  p.label = address;
  auto colon = address.rfind(':');
  p.host = address.substr(0, colon);
  if (!p.host.empty() && p.host.front() == '[')
    p.host = p.host.substr(1, p.host.size() - 2);
  p.port = static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
  return p;
}

std::string joined_list(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) out += (out.empty() ? "" : " ") + x;
  return out;
}

void publish_routes(self_ptr self) {
  std::vector<const known_peer*> live;
  for (auto& [node, p] : self->state.peers) live.push_back(&p);
  std::stable_sort(live.begin(), live.end(),
                   [](auto* a, auto* b) { return a->order < b->order; });
  peer_routes routes;
  for (auto* p : live)
    routes.push_back({p->name, p->serves, p->broker, p->address});
  // Configured peers that are not up (never yet, or lost), for consoles.
  std::vector<std::string> down;
  for (auto& c : self->state.configured) {
    bool up = false;
    for (auto* p : live) up = up || p->address == c.label;
    if (!up) down.push_back(c.label);
  }
  self->send(self->state.broker, routes_atom::value, std::move(routes),
             std::move(down));
}

void learn(self_ptr self, const caf::node_id& node, std::string name,
           std::vector<std::string> serves, broker_actor broker,
           std::size_t order) {
  auto& peers = self->state.peers;
  auto i = peers.find(node);
  auto& configured = self->state.configured;
  if (i == peers.end()) {
    self->monitor(broker);
    log_actors()->info("peer {} joined (serves {})", name, joined_list(serves));
    i = peers
            .emplace(node, known_peer{std::move(name),
                                      std::move(serves),
                                      std::move(broker),
                                      order,
                                      {}})
            .first;
    if (order >= configured.size()) {
      // Where it connected from, as the middleman knows it.
      self->request(self->state.connector, dial_timeout, caf::get_atom::value,
                    node)
          .then(
              [self](caf::node_id& n, std::string& host, std::uint16_t port) {
                auto j = self->state.peers.find(n);
                if (j == self->state.peers.end() || !j->second.address.empty())
                  return;
                j->second.address = host + ":" + std::to_string(port);
                publish_routes(self);
              },
              [](caf::error&) {});
    }
  } else {
    if (i->second.serves != serves)
      log_actors()->info("peer {} now serves {}", name, joined_list(serves));
    i->second.name = std::move(name);
    i->second.serves = std::move(serves);
    i->second.order = std::min(i->second.order, order);
  }
  if (order < configured.size()) i->second.address = configured[order].label;
  publish_routes(self);
}

void retry_later(self_ptr self, std::size_t i, const std::string& why) {
  auto& p = self->state.configured[i];
  p.dialing = false;
  // Said once per outage, not at every retry.
  if (p.backoff == milliseconds{0})
    log_actors()->warn("peer {}: {}; retrying", p.label, why);
  p.backoff = p.backoff == milliseconds{0}
                  ? first_retry
                  : std::min(p.backoff * 2, longest_retry);
  self->delayed_send(self, p.backoff, dial_atom::value, i);
}

bool from_this_node(self_ptr self) {
  auto sender = self->current_sender();
  return !sender || sender->node() == self->node();
}

caf::actor own_broker(self_ptr self) {
  if (self->state.face) return caf::actor_cast<caf::actor>(self->state.face);
  return caf::actor_cast<caf::actor>(self->state.broker);
}

void dial(self_ptr self, std::size_t i) {
  auto& p = self->state.configured[i];
  if (p.dialing || p.node) return;
  p.dialing = true;
  self->request(self->state.connector, dial_timeout, caf::connect_atom::value,
                p.host, p.port)
      .then(
          [self, i](caf::node_id& node, caf::strong_actor_ptr& ptr,
                    std::set<std::string>&) {
            auto& st = self->state;
            if (!ptr) return retry_later(self, i, "no broker published there");
            if (node == self->node()) {
              st.configured[i].dialing = false;
              log_actors()->error("peer {} is this node itself: ignored",
                                  st.configured[i].label);
              return;
            }
            auto broker = caf::actor_cast<broker_actor>(ptr);
            self->request(broker, dial_timeout, peer_atom::value,
                          st.settings.name, st.settings.serves,
                          own_broker(self))
                .then(
                    [self, i, node, broker](std::string& name,
                                            std::vector<std::string>& serves) {
                      auto& p = self->state.configured[i];
                      p.dialing = false;
                      p.backoff = milliseconds{0};
                      p.node = node;
                      learn(self, node, std::move(name), std::move(serves),
                            broker, i);
                    },
                    [self, i](caf::error& err) {
                      retry_later(
                          self, i,
                          "greeting refused: " + self->system().render(err));
                    });
          },
          [self, i](caf::error& err) {
            // The TLS handshake failing is all a refused node learns.
            auto why = err == caf::sec::disconnect_during_handshake
                           ? std::string{"access denied (certificate or token "
                                         "not accepted)"}
                           : self->system().render(err);
            retry_later(self, i, "cannot connect: " + why);
          });
}

directory_impl_actor::behavior_type directory(self_ptr self,
                                              cluster_settings settings,
                                              broker_admin_actor broker,
                                              caf::actor connector,
                                              broker_actor face) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.broker = std::move(broker);
  st.face = std::move(face);
  st.connector = std::move(connector);
  for (auto& address : st.settings.peers)
    st.configured.push_back(parse(address));
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto i = st.peers.begin(); i != st.peers.end(); ++i) {
      if (i->second.broker.address() != dm.source) continue;
      log_actors()->warn("peer {} lost: {}", i->second.name,
                         self->system().render(dm.reason));
      auto node = i->first;
      st.peers.erase(i);
      publish_routes(self);
      for (std::size_t k = 0; k < st.configured.size(); ++k)
        if (st.configured[k].node == node) {
          st.configured[k].node = caf::node_id{};
          st.configured[k].backoff = milliseconds{0};
          // Within a second, as promised, then backing off.
          st.configured[k].backoff = first_retry;
          self->delayed_send(self, first_retry, dial_atom::value, k);
        }
      return;
    }
  });
  // Only the node's own program stops it; a peer's exit is ignored.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.source && em.source.node() != self->node()) return;
    self->quit(em.reason);
  });
  for (std::size_t i = 0; i < st.configured.size(); ++i) dial(self, i);
  // The configured peers are down until they answer: consoles list them.
  if (!st.configured.empty()) publish_routes(self);
  return {
      [self](peer_atom, std::string& name, std::vector<std::string>& serves,
             caf::actor& broker)
          -> caf::result<std::string, std::vector<std::string>> {
        auto& st = self->state;
        auto sender = self->current_sender();
        // A node speaks for its own broker only.
        if (!broker || !sender || broker.node() != sender->node() ||
            broker.node() == self->node())
          return caf::make_error(caf::sec::runtime_error,
                                 "a peer greets with its own broker");
        learn(self, broker.node(), std::move(name), std::move(serves),
              caf::actor_cast<broker_actor>(broker),
              st.configured.size() + st.joined++);
        return {st.settings.name, st.settings.serves};
      },
      [self](settings_atom, std::vector<std::string>& serves) {
        // Its handle reaches every peer it answers: only this node's own
        // program may change what it announces.
        if (!from_this_node(self)) return;
        auto& st = self->state;
        st.settings.serves = std::move(serves);
        for (auto& [node, p] : st.peers)
          self->request(p.broker, dial_timeout, peer_atom::value,
                        st.settings.name, st.settings.serves, own_broker(self))
              .then([](std::string&, std::vector<std::string>&) {},
                    [](caf::error&) {});
      },
      [self](dial_atom, std::size_t i) {
        if (from_this_node(self) && i < self->state.configured.size())
          dial(self, i);
      },
  };
}

}  // namespace

peer_directory_actor spawn_peer_directory(caf::actor_system& sys,
                                          cluster_settings settings,
                                          broker_admin_actor broker,
                                          caf::actor connector,
                                          broker_actor face) {
  auto dir = sys.spawn(directory, std::move(settings), broker,
                       std::move(connector), std::move(face));
  peer_directory_actor handle{dir};
  caf::anon_send(broker, peer_atom::value, handle);
  return handle;
}

}  // namespace remex::actors
