// A CAF node that tries to get into a remexd. Modes:
//   plain HOST PORT           middleman without TLS: a plain BASP handshake
//   foreign HOST PORT TOKEN   TLS with a certificate remexd never issued
//                             (TOKEN: a token file of another node)
//   token HOST PORT TOKEN     the right token: the broker handle, then
//                             messages outside its public interface, named
//                             system actors, a remote spawn, an exit
//                             message (user_shutdown), then a ping
//   kill HOST PORT TOKEN      the right token and an exit message with
//                             reason kill, which CAF 0.17 never lets an
//                             actor ignore
//   guess HOST PORT TOKEN N   the right token, then guessed actor ids 1..N
//                             (CAF 0.17.6 delivers to any actor registered
//                             under an id): internal messages of the node's
//                             actors (shutdown, done, cancel, settings …),
//                             anonymous and with a sender
//   guess-kill HOST PORT TOKEN N   the same with exit messages (user_shutdown,
//                             kill)
// It is a stock CAF node: libcaf_openssl's transport, not remex's, so the
// token modes also show that remexd speaks CAF's own TLS and BASP.
// Prints one line per attempt ("refused: ...", "got: ...", "answered: ...")
// and exits 0 when remexd let in only what it should (plain/foreign: no
// handle; token: nothing outside the interface answered with a value, and
// the broker still answers a ping), else 1.
#include <caf/all.hpp>
#include <caf/forwarding_actor_proxy.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/openssl/all.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "actors/interfaces.hpp"
#include "actors/types.hpp"
#include "node/node_link.hpp"

using namespace caf;
using namespace remex;

namespace {

// What remex's node_link sets, on CAF's OpenSSL module.
void configure_stock_tls(actor_system_config& cfg, const std::string& token) {
  cfg.load<io::middleman>().load<openssl::manager>();
  actors::add_message_types(cfg);
  cfg.openssl_certificate = token;
  cfg.openssl_key = token;
  cfg.openssl_cafile = token;
  cfg.set("middleman.app-identifiers",
          std::vector<std::string>{node::app_identifier});
}

int usage() {
  std::cerr
      << "usage: basp_peer plain|foreign|token|kill|guess|guess-kill HOST PORT "
         "[TOKEN [N]]\n";
  return 2;
}

// Whether a message outside the public interface got a value back: the
// broker must answer with an error or drop it.
bool ask(scoped_actor& self, const actor& dest, const std::string& what,
         message msg) {
  bool answered = false;
  self->request(dest, std::chrono::seconds(2), std::move(msg))
      .receive(
          [&](message& reply) {
            std::cout << "answered: " << what << " -> " << to_string(reply)
                      << "\n";
            answered = true;
          },
          [&](error& err) {
            // An empty reply (a handler that returns nothing ran) arrives
            // as unexpected_response here.
            if (err == sec::unexpected_response) {
              std::cout << "answered: " << what << " -> ()\n";
              answered = true;
              return;
            }
            std::cout << "refused: " << what << " ("
                      << self->system().render(err) << ")\n";
          });
  return answered;
}

int with_token(actor_system& sys, const std::string& host, uint16_t port,
               bool kill) {
  auto typed = openssl::remote_actor<actors::broker_actor>(sys, host, port);
  if (!typed) {
    std::cout << "refused: broker handle (" << sys.render(typed.error())
              << ")\n";
    return 1;
  }
  // Untyped, so that anything at all can be sent to it.
  auto broker = std::make_optional(actor_cast<actor>(*typed));
  std::cout << "got: broker handle\n";
  if (kill) {
    // Always fatal in CAF 0.17: remexd must stop rather than go deaf.
    scoped_actor self{sys};
    self->request(*typed, std::chrono::seconds(5), actors::ping_atom::value)
        .receive([](bool) {}, [](error&) {});
    anon_send_exit(*typed, exit_reason::kill);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return 0;
  }
  scoped_actor self{sys};
  bool leak = false;
  // Not in broker_actor's interface: internal atoms of the node's own
  // actors, wrong shapes of public ones, plain junk.
  leak |= ask(self, *broker, "a string", make_message(std::string{"hello"}));
  leak |= ask(self, *broker, "an int", make_message(42));
  for (auto a :
       {atom("done"), atom("exited"), atom("drained"), atom("routes"),
        atom("dial"), atom("shutdown"), atom("settings"), atom("placed"),
        atom("deadline"), atom("idle"), atom("cancel")})
    leak |=
        ask(self, *broker, "internal atom " + to_string(a), make_message(a));
  leak |=
      ask(self, *broker, "exec without a request", make_message(atom("exec")));
  leak |= ask(self, *broker, "exec with junk",
              make_message(atom("exec"), std::string{"rm -rf /"}, 7));
  leak |= ask(self, *broker, "console with junk",
              make_message(atom("console"), 1, 2, 3));
  leak |= ask(self, *broker, "shutdown with a reason",
              make_message(atom("shutdown"), std::string{"now"}));
  // CAF's own named actors on the node: a remote spawn must find nothing
  // to spawn.
  auto nid = broker->node();
  for (auto name : {atom("SpawnServ"), atom("ConfigServ")}) {
    auto h = sys.middleman().remote_lookup(name, nid);
    std::cout << (h ? "got: " : "refused: ") << to_string(name) << "\n";
  }
  auto spawned = sys.middleman().remote_spawn<actor>(
      nid, "remex_broker", make_message(), std::chrono::seconds(2));
  if (spawned) {
    std::cout << "answered: remote spawn\n";
    leak = true;
  } else {
    std::cout << "refused: remote spawn (" << sys.render(spawned.error())
              << ")\n";
  }
  // An exit message to the published handle: it must not stop anything.
  anon_send_exit(*broker, exit_reason::user_shutdown);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Still there and sane.
  bool pong = false;
  self->request(*broker, std::chrono::seconds(5), atom("ping"))
      .receive([&](bool b) { pong = b; },
               [&](error& err) {
                 std::cout << "ping failed: " << sys.render(err) << "\n";
               });
  std::cout << (pong ? "got: ping answered\n" : "refused: ping\n");
  return leak || !pong ? 1 : 0;
}

// A handle to actor id AID on NODE, as BASP would make when a message
// named it: messages to it travel over the existing connection.
actor guessed(actor_system& sys, const node_id& node, actor_id aid) {
  auto basp = sys.middleman().named_broker<io::basp_broker>(atom("BASP"));
  actor_config cfg;
  auto p = make_actor<forwarding_actor_proxy, strong_actor_ptr>(
      aid, node, &sys, cfg, std::move(basp));
  return actor_cast<actor>(p);
}

int guess(actor_system& sys, const std::string& host, uint16_t port, int n,
          bool exits) {
  auto typed = openssl::remote_actor<actors::broker_actor>(sys, host, port);
  if (!typed) {
    std::cout << "refused: broker handle (" << sys.render(typed.error())
              << ")\n";
    return 1;
  }
  std::cout << "got: broker handle\n";
  auto nid = typed->node();
  scoped_actor self{sys};
  std::vector<message> junk;
  if (exits) {
    junk.push_back(
        make_message(exit_msg{self->address(), exit_reason::user_shutdown}));
    junk.push_back(make_message(exit_msg{self->address(), exit_reason::kill}));
  } else {
    using namespace actors;
    junk = {make_message(shutdown_atom::value, timespan{0}),
            make_message(shutdown_atom::value),
            make_message(cancel_atom::value),
            make_message(done_atom::value),
            make_message(signal_atom::value, int32_t{9}),
            make_message(eof_atom::value),
            make_message(close_atom::value),
            make_message(idle_atom::value),
            make_message(deadline_atom::value),
            make_message(exited_atom::value),
            make_message(exited_atom::value, outcome{}),
            make_message(drained_atom::value, uint64_t{1}),
            make_message(settings_atom::value)};
  }
  for (int aid = 1; aid <= n; ++aid) {
    auto h = guessed(sys, nid, static_cast<actor_id>(aid));
    // What anon_send_exit sends: the target named as the source.
    if (exits)
      h->enqueue(nullptr, make_message_id(),
                 make_message(exit_msg{h.address(), exit_reason::kill}),
                 nullptr);
    for (auto& m : junk) {
      h->enqueue(nullptr, make_message_id(), m, nullptr);
      self->send(h, m);
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // A request gets an error at once, from the node's actors too (not
  // silence, not a value): refused (unexpected_message) where an actor
  // has the id, unknown (request_receiver_down) where none has.
  if (!exits) {
    int answered = 0, refused = 0, unknown = 0, silent = 0;
    for (int aid = 1; aid <= n; ++aid) {
      auto h = guessed(sys, nid, static_cast<actor_id>(aid));
      self->request(h, std::chrono::milliseconds(500),
                    make_message(actors::shutdown_atom::value, timespan{0}))
          .receive([&](message&) { ++answered; },
                   [&](error& err) {
                     if (err == sec::unexpected_response)
                       ++answered;  // an empty reply: a handler ran
                     else if (err == sec::request_timeout)
                       ++silent;
                     else if (err == sec::unexpected_message)
                       ++refused;
                     else
                       ++unknown;
                   });
    }
    std::cout << "requests: " << answered << " answered, " << refused
              << " refused, " << unknown << " unknown, " << silent
              << " silent\n";
  }
  // Each guessed proxy, when it goes, has BASP drop the proxy registered
  // for its id (forwarding_actor_proxy's destructor), the broker handle's
  // among them: ask through a new one.
  auto again = guessed(sys, nid, typed->id());
  bool pong = false;
  self->request(again, std::chrono::seconds(5), actors::ping_atom::value)
      .receive([&](bool b) { pong = b; },
               [&](error& err) {
                 std::cout << "ping failed: " << sys.render(err) << "\n";
               });
  std::cout << "sent: " << junk.size() * 2 << " messages to each of ids 1.."
            << n << "\n";
  std::cout << (pong ? "got: ping answered\n" : "refused: ping\n");
  return pong ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  std::string mode = argv[1], host = argv[2];
  auto port = static_cast<uint16_t>(std::stoi(argv[3]));
  actor_system_config cfg;
  if (mode == "plain") {
    cfg.load<io::middleman>();
    actors::add_message_types(cfg);
    actor_system sys{cfg};
    auto h = sys.middleman().remote_actor(host, port);
    if (h) {
      std::cout << "got: a handle over plain BASP\n";
      return 1;
    }
    std::cout << "refused: plain BASP (" << sys.render(h.error()) << ")\n";
    return 0;
  }
  if (argc < 5 || (mode != "foreign" && mode != "token" && mode != "kill" &&
                   mode != "guess" && mode != "guess-kill"))
    return usage();
  configure_stock_tls(cfg, argv[4]);
  actor_system sys{cfg};
  if (mode == "guess" || mode == "guess-kill")
    return guess(sys, host, port, argc > 5 ? std::stoi(argv[5]) : 200,
                 mode == "guess-kill");
  if (mode == "token" || mode == "kill")
    return with_token(sys, host, port, mode == "kill");
  auto h = openssl::remote_actor(sys, host, port);
  if (h) {
    std::cout << "got: a handle with a foreign certificate\n";
    return 1;
  }
  std::cout << "refused: foreign certificate (" << sys.render(h.error())
            << ")\n";
  return 0;
}
