// The broker's routing under CAF's deterministic scheduler: a target the node
// serves runs here; another goes, in one hop and with the path, to the
// first live peer that serves it; a forwarded request is never passed on;
// with nobody serving it, a request fails at once; and when the peer dies
// mid-run, the requester hears failed(lost) naming it.
#define CAF_SUITE routing

#include "actors/broker.hpp"
#include "actors/types.hpp"
#include "caf/test/dsl.hpp"
#include "replies.hpp"
#include "scripted_transport.hpp"

using namespace remex;
using namespace remex::actors;

namespace {

struct peer_log {
  std::vector<std::string> targets;
  std::vector<std::vector<std::string>> paths;
};

// A peer's broker: answers forwarded requests exited(5), or never
// (hold = true) so that it can die with the request running.
caf::behavior fake_peer(caf::event_based_actor* self,
                        std::shared_ptr<peer_log> log, bool hold) {
  return {
      [=](exec_atom, exec_request& req, endpoints&,
          std::vector<std::string>& path) -> caf::result<outcome> {
        log->targets.push_back(req.target);
        log->paths.push_back(path);
        if (hold) return self->make_response_promise<outcome>();
        outcome o;
        o.code = 5;
        return o;
      },
  };
}

struct config : caf::actor_system_config {
  config() { remex::actors::add_message_types(*this); }
};

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<test::scripted_provider> provider =
      std::make_shared<test::scripted_provider>();
  std::shared_ptr<peer_log> log = std::make_shared<peer_log>();
  broker_admin_actor broker;

  fixture() {
    remex::config::broker_settings settings;
    settings.node_name = "B";
    settings.serves = {"web*"};
    broker = spawn_broker(sys, settings,
                          [p = provider](const exec_request&) { return p; });
    run();
  }

  caf::actor peer(bool hold = false) {
    auto p = sys.spawn(fake_peer, log, hold);
    peer_routes routes{
        {"A", {"db*", "cache1"}, caf::actor_cast<broker_actor>(p), ""}};
    self->send(broker, routes_atom::value, std::move(routes));
    run();
    return p;
  }

  exec_request request(std::string target) {
    exec_request req;
    req.backend = backend_kind::ssh;
    req.target = std::move(target);
    req.path = "true";
    req.argv = {"true"};
    return req;
  }

  // The command running here ends, so that nothing outlives the test.
  void finish_here() {
    CAF_REQUIRE(provider->listener != nullptr);
    provider->listener->on_eof(1);
    provider->listener->on_eof(2);
    provider->listener->on_exit(transport::exit_status::exited_with(0));
    consume_messages();
  }

  std::vector<outcome> replies() { return test::replies_in(self); }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(routing_tests, fixture)

CAF_TEST(nobody serves the target so it fails at once and opens nothing) {
  self->send(broker, exec_atom::value, request("db1"), endpoints{});
  run();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::failed);
  CAF_CHECK_EQUAL(rs[0].failure, transport::failure_kind::cluster);
  CAF_CHECK_EQUAL(rs[0].message, "no node serves it");
  CAF_CHECK_EQUAL(rs[0].exit_code(), 255);
  CAF_CHECK(provider->listener == nullptr);
}

CAF_TEST(a target this node serves runs here) {
  peer();
  self->send(broker, exec_atom::value, request("web1"), endpoints{});
  run();
  CAF_CHECK(log->targets.empty());
  finish_here();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 0);
}

CAF_TEST(another target goes to the peer that serves it with the path) {
  peer();
  self->send(broker, exec_atom::value, request("db7"), endpoints{});
  run();
  CAF_REQUIRE_EQUAL(log->targets.size(), 1u);
  CAF_CHECK_EQUAL(log->targets[0], "db7");
  CAF_CHECK_EQUAL(log->paths[0], std::vector<std::string>{"B"});
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 5);
  CAF_CHECK(provider->listener == nullptr);
}

CAF_TEST(a forwarded request is never forwarded again) {
  peer();
  self->send(broker, exec_atom::value, request("db7"), endpoints{},
             std::vector<std::string>{"C"});
  run();
  CAF_CHECK(log->targets.empty());
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].message, "no node serves it");
  // One this node serves runs here.
  self->send(broker, exec_atom::value, request("web2"), endpoints{},
             std::vector<std::string>{"C"});
  run();
  finish_here();
  CAF_CHECK_EQUAL(replies().size(), 1u);
}

CAF_TEST(the peer dying mid - run answers failed lost naming it) {
  auto p = peer(true);
  self->send(broker, exec_atom::value, request("cache1"), endpoints{});
  run();
  CAF_REQUIRE_EQUAL(log->targets.size(), 1u);
  CAF_CHECK(replies().empty());
  self->send_exit(p, caf::exit_reason::kill);
  run();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].failure, transport::failure_kind::lost);
  CAF_CHECK_EQUAL(rs[0].message, "node A lost; the command's fate is unknown");
  CAF_CHECK_EQUAL(rs[0].exit_code(), 255);
}

// What `peers` says on this node as the directory reports peers: a
// configured peer that never came up is listed down by its address; once
// it is up, under its name at that address, and listed once even when it
// joined by itself first (from another port); when lost, down there.
CAF_TEST(peers lists addresses and configured peers never up) {
  auto p = sys.spawn(fake_peer, log, false);
  auto a = caf::actor_cast<broker_actor>(p);
  auto peers = [&] {
    self->send(broker, console_atom::value, std::vector<std::string>{"peers"},
               false);
    run();
    std::vector<std::string> out;
    self->receive([&](std::vector<console_row>& rows) {
      for (auto& r : rows)
        out.push_back(r.values[0] + " " + r.values[1] + " " + r.values[2]);
    });
    return out;
  };
  using lines = std::vector<std::string>;
  std::vector<std::string> down{"127.0.0.1:7411"};
  self->send(broker, routes_atom::value, peer_routes{}, down);
  run();
  CAF_CHECK_EQUAL(peers(), (lines{"B - up", "- 127.0.0.1:7411 down"}));
  self->send(broker, routes_atom::value,
             peer_routes{{"A", {"db*"}, a, "127.0.0.1:40000"}}, down);
  run();
  CAF_CHECK_EQUAL(peers(), (lines{"B - up", "- 127.0.0.1:7411 down",
                                  "A 127.0.0.1:40000 up"}));
  self->send(broker, routes_atom::value,
             peer_routes{{"A", {"db*"}, a, "127.0.0.1:7411"}},
             std::vector<std::string>{});
  run();
  CAF_CHECK_EQUAL(peers(), (lines{"B - up", "A 127.0.0.1:7411 up"}));
  self->send(broker, routes_atom::value, peer_routes{}, down);
  run();
  CAF_CHECK_EQUAL(peers(), (lines{"B - up", "A 127.0.0.1:7411 down"}));
  caf::anon_send_exit(p, caf::exit_reason::kill);
  run();
}

CAF_TEST_FIXTURE_SCOPE_END()
