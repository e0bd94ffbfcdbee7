// The supervisor's life cycle under CAF's deterministic scheduler: every way an
// execution can end yields exactly one reply, a killed remote process group
// where needed, and no actor left behind.
#define CAF_SUITE supervisor

#include "actors/broker.hpp"
#include "actors/types.hpp"
#include "caf/test/dsl.hpp"
#include "replies.hpp"
#include "scripted_transport.hpp"

using namespace remex;
using namespace remex::actors;

namespace {

struct sink_state {
  std::shared_ptr<std::map<std::uint32_t, std::string>> got;
  std::shared_ptr<std::vector<std::uint32_t>> eofs;
  bool fail = false;
};

sink_actor::behavior_type recording_sink(
    sink_actor::stateful_pointer<sink_state> self,
    std::shared_ptr<std::map<std::uint32_t, std::string>> got,
    std::shared_ptr<std::vector<std::uint32_t>> eofs, bool fail) {
  self->state.got = got;
  self->state.eofs = eofs;
  self->state.fail = fail;
  return {
      [self](chunk_atom, std::uint32_t s,
             const std::string& bytes) -> caf::result<std::uint64_t> {
        if (self->state.fail)
          return caf::make_error(caf::sec::runtime_error, "sink broke");
        (*self->state.got)[s] += bytes;
        return std::uint64_t{bytes.size()};
      },
      [self](eof_atom, std::uint32_t s) {
        self->state.eofs->push_back(s);
        return true;
      },
  };
}

// A requester-side stdin source that remembers the input it is attached to
// and the credit it gets back.
struct source_state {
  input_actor input;
  std::uint64_t credit = 0;
};

// CAF 0.17 dereferences a null argument tuple when a function-based actor
// is spawned without arguments (UBSan flags it), so the test actors take one.
source_actor::behavior_type capturing_source(
    source_actor::stateful_pointer<source_state> self,
    std::uint64_t initial_credit) {
  self->state.credit = initial_credit;
  return {
      [self](attach_atom, input_actor& input) { self->state.input = input; },
      [self](credit_atom, std::uint64_t n) { self->state.credit += n; },
  };
}

// A requester-side signal source that remembers its signal target.
struct signals_state {
  signal_actor target;
};

signal_source_actor::behavior_type capturing_signals(
    signal_source_actor::stateful_pointer<signals_state> self,
    signal_actor initial) {
  self->state.target = initial;
  return {
      [self](attach_atom, signal_actor& target) {
        self->state.target = target;
      },
  };
}

struct config : caf::actor_system_config {
  config() { remex::actors::add_message_types(*this); }
};

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<test::scripted_provider> provider =
      std::make_shared<test::scripted_provider>();
  std::shared_ptr<std::map<std::uint32_t, std::string>> got =
      std::make_shared<std::map<std::uint32_t, std::string>>();
  std::shared_ptr<std::vector<std::uint32_t>> eofs =
      std::make_shared<std::vector<std::uint32_t>>();
  broker_actor broker;
  source_actor source;
  signal_source_actor signals;
  size_t baseline = 0;

  fixture() {
    remex::config::broker_settings settings;
    settings.supervision.terminate_grace = std::chrono::seconds(3);
    settings.supervision.kill_grace = std::chrono::seconds(2);
    broker = spawn_broker(sys, settings,
                          [p = provider](const exec_request&) { return p; });
    source = sys.spawn(capturing_source, std::uint64_t{0});
    signals = sys.spawn(capturing_signals, signal_actor{});
    run();
  }

  exec_request make_request(std::uint64_t timeout_ms = 0) {
    exec_request req;
    req.backend = backend_kind::ssh;  // the session then hands the provider a
                                      // command line
    req.path = "echo";
    req.argv = {"echo", "hi"};
    req.timeout_ms = timeout_ms;
    return req;
  }

  endpoints make_endpoints(bool failing_sink = false) {
    endpoints ends;
    auto sink = sys.spawn(recording_sink, got, eofs, failing_sink);
    ends.sinks.emplace(1, sink);
    ends.sinks.emplace(2, sink);
    ends.sources.emplace(0, source);
    ends.signals = signals;
    return ends;
  }

  // Starts an execution on behalf of `requester` and runs until the channel
  // is open; counts the actors alive before, so leaks show.
  void start(const caf::actor& requester, exec_request req, endpoints ends) {
    baseline = sys.registry().running();
    caf::anon_send(requester, exec_atom::value, std::move(req),
                   std::move(ends));
    consume_messages();
    CAF_REQUIRE(provider->listener != nullptr);
    CAF_REQUIRE(provider->channel != nullptr);
  }

  void start(exec_request req, endpoints ends) {
    baseline = sys.registry().running();
    self->send(broker, exec_atom::value, std::move(req), std::move(ends));
    consume_messages();
    CAF_REQUIRE(provider->listener != nullptr);
    CAF_REQUIRE(provider->channel != nullptr);
  }

  // Every reply in self's mailbox.
  std::vector<outcome> replies() { return test::replies_in(self); }

  input_actor attached_input() {
    return deref<source_actor::stateful_base<source_state>>(source).state.input;
  }
  signal_actor attached_signals() {
    return deref<signal_source_actor::stateful_base<signals_state>>(signals)
        .state.target;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, fixture)

CAF_TEST(normal exit delivers output then exactly one outcome) {
  start(make_request(), make_endpoints());
  CAF_CHECK(attached_input() != nullptr);
  CAF_CHECK(attached_signals() != nullptr);
  provider->listener->on_data(1, "hello ");
  provider->listener->on_data(1, "world\n");
  provider->listener->on_data(2, "warn\n");
  provider->listener->on_eof(1);
  provider->listener->on_eof(2);
  provider->listener->on_exit(transport::exit_status::exited_with(3));
  consume_messages();
  CAF_CHECK_EQUAL((*got)[1], "hello world\n");
  CAF_CHECK_EQUAL((*got)[2], "warn\n");
  CAF_CHECK_EQUAL(eofs->size(), 2u);
  // Credit returned for every byte the sink took.
  CAF_CHECK_EQUAL(provider->channel->credit[1], 12u);
  CAF_CHECK_EQUAL(provider->channel->credit[2], 5u);
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::exited);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 3);
  // A late duplicate exit changes nothing and earns no second reply.
  provider->listener->on_exit(transport::exit_status::exited_with(9));
  consume_messages();
  CAF_CHECK(replies().empty());
  // The supervisor, its pumps and its forwarder are gone; the sinks we
  // spawned remain until we drop them, plus the host's session.
  CAF_CHECK_LESS_OR_EQUAL(sys.registry().running(), baseline + 2);
}

CAF_TEST(signal exit maps to 128 plus N) {
  start(make_request(), make_endpoints());
  provider->listener->on_exit(transport::exit_status::killed_by(15));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::signaled);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 143);
}

// A shell between sshd and the command, or the agent, reports a death by
// signal N as exit code 128+N: after remex delivered N it is signaled(N)
// (same exit code); without that signal, an exit 143 stays exited(143).
CAF_TEST(exit 128 plus N after remex delivered N is signaled N) {
  start(make_request(), make_endpoints());
  auto sig = attached_signals();
  CAF_REQUIRE(sig != nullptr);
  caf::send_as(signals, sig, signal_atom::value, std::int32_t{15});
  consume_messages();
  provider->listener->on_exit(transport::exit_status::exited_with(143));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].to_string(), "signaled(15)");
  CAF_CHECK_EQUAL(rs[0].exit_code(), 143);
}

CAF_TEST(exit 143 without a delivered signal stays exited) {
  start(make_request(), make_endpoints());
  auto sig = attached_signals();
  CAF_REQUIRE(sig != nullptr);
  caf::send_as(signals, sig, signal_atom::value, std::int32_t{10});
  consume_messages();
  provider->listener->on_exit(transport::exit_status::exited_with(143));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].to_string(), "exited(143)");
  CAF_CHECK_EQUAL(rs[0].exit_code(), 143);
}

CAF_TEST(input and signals reach the channel and credit comes back) {
  start(make_request(), make_endpoints());
  auto input = attached_input();
  auto sig = attached_signals();
  CAF_REQUIRE(input != nullptr);
  CAF_REQUIRE(sig != nullptr);
  // The plain-ssh backend's script goes ahead of stdin, in-band.
  auto script = provider->channel->written[0];
  CAF_REQUIRE(!script.empty());
  caf::send_as(source, input, chunk_atom::value, std::string("input bytes"));
  caf::send_as(source, input, eof_atom::value);
  caf::send_as(signals, sig, signal_atom::value, std::int32_t{10});
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->written[0], script + "input bytes");
  CAF_REQUIRE_EQUAL(provider->channel->closed.size(), 1u);
  CAF_CHECK_EQUAL(provider->channel->closed[0], 0u);
  CAF_REQUIRE_EQUAL(provider->channel->signals.size(), 1u);
  CAF_CHECK_EQUAL(provider->channel->signals[0], 10);
  provider->listener->on_drained(0, script.size() + 11);
  consume_messages();
  CAF_CHECK_EQUAL(
      deref<source_actor::stateful_base<source_state>>(source).state.credit,
      11u);
  provider->listener->on_exit(transport::exit_status::exited_with(0));
  consume_messages();
  CAF_CHECK_EQUAL(replies().size(), 1u);
}

CAF_TEST(deadline kills the remote group and reports timed out) {
  start(make_request(2000), make_endpoints());
  CAF_CHECK_EQUAL(provider->channel->terminated, 0);
  trigger_timeout();  // the deadline
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->terminated, 1);
  CAF_CHECK(replies().empty());  // not before the transport confirms
  provider->listener->on_exit(transport::exit_status::killed_by(15));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::timed_out);
  CAF_CHECK(rs[0].cleanup_done);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 124);
  CAF_CHECK_LESS_OR_EQUAL(sys.registry().running(), baseline + 2);
}

CAF_TEST(deadline without confirmation climbs the kill ladder) {
  start(make_request(2000), make_endpoints());
  trigger_timeout();  // the deadline: terminate
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->terminated, 1);
  CAF_CHECK_EQUAL(provider->channel->killed, 0);
  CAF_CHECK(replies().empty());
  trigger_timeout();  // the terminate grace: kill outright
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->killed, 1);
  CAF_CHECK(replies().empty());
  trigger_timeout();  // the kill grace: report without confirmation
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::timed_out);
  CAF_CHECK(!rs[0].cleanup_done);
  CAF_CHECK_LESS_OR_EQUAL(sys.registry().running(), baseline + 2);
}

CAF_TEST(a failing child stops the execution with an error) {
  start(make_request(), make_endpoints(true));
  provider->listener->on_data(1, "nobody can take this");
  consume_messages();
  // The sink's error stops the execution: the remote group is killed.
  CAF_CHECK_EQUAL(provider->channel->terminated, 1);
  // What still arrives is discarded with credit, so the exit is not held
  // up behind a full window.
  provider->listener->on_data(1, "more");
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->credit[1], 24u);
  provider->listener->on_exit(transport::exit_status::killed_by(9));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::failed);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 255);
  CAF_CHECK(rs[0].message.find("sink broke") != std::string::npos);
  CAF_CHECK_LESS_OR_EQUAL(sys.registry().running(), baseline + 2);
}

CAF_TEST(requester death cancels and kills the remote group) {
  // A requester actor that forwards its exec to the broker, then dies.
  auto requester = sys.spawn(
      [](caf::event_based_actor* self, broker_actor broker) -> caf::behavior {
        return {
            [=](exec_atom, exec_request& req, endpoints& ends) {
              self->send(broker, exec_atom::value, std::move(req),
                         std::move(ends));
            },
            [](const outcome&) {},
        };
      },
      broker);
  start(requester, make_request(), make_endpoints());
  CAF_CHECK_EQUAL(provider->channel->terminated, 0);
  caf::anon_send_exit(requester, caf::exit_reason::kill);
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->terminated, 1);
  provider->listener->on_exit(transport::exit_status::killed_by(15));
  consume_messages();
  // The registry shows the execution as finished, cancelled.
  self->send(broker, list_atom::value);
  consume_messages();
  std::vector<execution_info> rows;
  self->receive([&](std::vector<execution_info>& xs) { rows = xs; });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK(rows[0].state == execution_info::finished);
  CAF_CHECK_EQUAL(rows[0].result, "cancelled");
  CAF_CHECK_LESS_OR_EQUAL(sys.registry().running(), baseline + 2);
}

CAF_TEST(a requester whose node dies does not hold up the end) {
  // A sink that takes stdout and never answers, then dies: what a sink on
  // a remex run that was SIGKILLed looks like from remexd (CAF 0.17 bounces
  // nothing sent to an actor of a node that is gone).
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  auto silent_sink = caf::actor_cast<sink_actor>(sys.spawn(
      [](caf::event_based_actor* self,
         std::shared_ptr<std::vector<caf::response_promise>> held)
          -> caf::behavior {
        return {
            [self, held](chunk_atom, std::uint32_t, const std::string&) {
              held->push_back(self->make_response_promise());
            },
            [self, held](eof_atom, std::uint32_t) {
              held->push_back(self->make_response_promise());
            },
        };
      },
      held));
  auto requester = sys.spawn(
      [](caf::event_based_actor* self, broker_actor broker) -> caf::behavior {
        return {
            [=](exec_atom, exec_request& req, endpoints& ends) {
              self->send(broker, exec_atom::value, std::move(req),
                         std::move(ends));
            },
            [](const outcome&) {},
        };
      },
      broker);
  auto ends = make_endpoints();
  ends.sinks[1] = silent_sink;
  start(requester, make_request(), ends);
  provider->listener->on_data(1, "never acknowledged");
  consume_messages();
  CAF_CHECK_EQUAL(held->size(), 1u);
  // The requester's node dies: requester and sink go together.
  caf::anon_send_exit(requester, caf::exit_reason::kill);
  caf::anon_send_exit(silent_sink, caf::exit_reason::kill);
  consume_messages();
  CAF_CHECK_EQUAL(provider->channel->terminated, 1);
  // The unacknowledged chunk is credited, so the channel drains.
  CAF_CHECK_EQUAL(provider->channel->credit[1], 18u);
  provider->listener->on_eof(1);
  provider->listener->on_eof(2);
  provider->listener->on_exit(transport::exit_status::killed_by(15));
  consume_messages();
  // Ended as soon as the remote process is gone: no timer had to run out.
  self->send(broker, list_atom::value);
  consume_messages();
  std::vector<execution_info> rows;
  self->receive([&](std::vector<execution_info>& xs) { rows = xs; });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK(rows[0].state == execution_info::finished);
  CAF_CHECK_EQUAL(provider->channel->killed, 0);
}

CAF_TEST(a transport failure before any output is reported once) {
  start(make_request(), make_endpoints());
  provider->listener->on_exit(transport::exit_status::failed_with(
      transport::failure_kind::connect, 255, "scripted: connection refused"));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].kind, outcome::failed);
  CAF_CHECK(rs[0].failure == transport::failure_kind::connect);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 255);
  // The sinks were told EOF so the requester is not left waiting.
  CAF_CHECK_EQUAL(eofs->size(), 2u);
}

// The map of one execution's conversation, executable: each step is the
// next message of the next actor to run (DESIGN.md's actor diagram and
// supervisor.hpp's list).
CAF_TEST(the conversation of one execution) {
  // The next actor with a message to handle; freshly spawned actors run
  // their initialisation first (their mailbox is still empty).
  auto next = [&] {
    while (
        sched.has_job() &&
        sched.next_job<caf::abstract_actor>().peek_at_next_mailbox_element() ==
            nullptr)
      sched.run_once();
    return caf::actor_cast<caf::actor>(&sched.next_job<caf::abstract_actor>());
  };
  auto ends = make_endpoints();
  auto sink = ends.sinks.at(1);
  self->send(broker, exec_atom::value, make_request(), ends);
  expect((exec_atom, exec_request, endpoints), from(self).to(broker));
  // The broker tells its event hub (the node's watchers) that it started.
  expect((event_atom, console_row), from(broker).to(next()));
  // The supervisor asks the host's session for a channel.
  expect((open_atom, exec_request, listener_ptr), from(_).to(next()));
  // The transport's listener hands the channel to both output pumps, the
  // input pump, the signal forwarder and last the supervisor...
  for (int i = 0; i < 5; ++i)
    expect((opened_atom, channel_ptr), from(_).to(next()));
  // ...which then gets the session's answer and attaches the requester.
  expect((channel_ptr), from(_).to(next()));
  expect((attach_atom, input_actor), from(_).to(source));
  expect((attach_atom, signal_actor), from(_).to(signals));
  // A chunk of stdout: relay → pump → sink; the sink's reply is the credit
  // the pump returns to the channel.
  provider->listener->on_data(1, "hello");
  auto pump = next();
  expect((chunk_atom, std::string), from(_).to(pump).with(_, "hello"));
  expect((chunk_atom, std::uint32_t, std::string),
         from(pump).to(sink).with(_, std::uint32_t{1}, "hello"));
  expect((std::uint64_t), from(sink).to(pump).with(std::uint64_t{5}));
  CAF_CHECK_EQUAL(provider->channel->credit[1], 5u);
  // A chunk of stdin: source → input pump → channel; drained → credit.
  caf::send_as(source, attached_input(), chunk_atom::value, std::string("in"));
  auto in = next();
  expect((chunk_atom, std::string), from(source).to(in).with(_, "in"));
  provider->listener->on_drained(0, provider->channel->written[0].size());
  expect((drained_atom, std::uint64_t), from(_).to(in));
  expect((credit_atom, std::uint64_t),
         from(in).to(source).with(_, std::uint64_t{2}));
  // The end: exit to the supervisor, each output closed, one report.
  provider->listener->on_eof(1);
  provider->listener->on_eof(2);
  provider->listener->on_exit(transport::exit_status::exited_with(0));
  consume_messages();
  auto rs = replies();
  CAF_REQUIRE_EQUAL(rs.size(), 1u);
  CAF_CHECK_EQUAL(rs[0].exit_code(), 0);
}

CAF_TEST(a stop while connecting answers at once) {
  // A session that never answers: the connection attempt hangs.
  auto promises = std::make_shared<std::vector<caf::response_promise>>();
  auto hung_actor = sys.spawn(
      [](caf::event_based_actor* self,
         std::shared_ptr<std::vector<caf::response_promise>> held)
          -> caf::behavior {
        return {
            [self, held](open_atom, exec_request&, listener_ptr&) {
              held->push_back(self->make_response_promise());
            },
            // The test lets the connection attempt end (without a channel).
            [held](done_atom) {
              for (auto& p : *held) p.deliver(channel_ptr{});
            },
        };
      },
      promises);
  auto hung = caf::actor_cast<session_actor>(hung_actor);
  auto reports = std::make_shared<std::vector<outcome>>();
  auto reporter = sys.spawn(
      [](report_actor::pointer, std::shared_ptr<std::vector<outcome>> out)
          -> report_actor::behavior_type {
        return {[out](done_atom, std::uint64_t, outcome& o) {
          out->push_back(std::move(o));
        }};
      },
      reports);
  spawn_supervisor(self.ptr(), 1, make_request(2000), make_endpoints(),
                   caf::actor{}, hung, reporter);
  consume_messages();
  CAF_CHECK(reports->empty());
  CAF_CHECK_EQUAL(promises->size(), 1u);
  trigger_timeout();  // the deadline, while still connecting
  consume_messages();
  CAF_REQUIRE_EQUAL(reports->size(), 1u);
  CAF_CHECK_EQUAL((*reports)[0].kind, outcome::timed_out);
  CAF_CHECK((*reports)[0].cleanup_done);  // nothing was ever started
  // The supervisor stays for the session's late answer, then goes.
  caf::anon_send(hung_actor, done_atom::value);
  consume_messages();
  caf::anon_send_exit(hung_actor, caf::exit_reason::kill);
  caf::anon_send_exit(reporter, caf::exit_reason::kill);
  consume_messages();
}

CAF_TEST_FIXTURE_SCOPE_END()
