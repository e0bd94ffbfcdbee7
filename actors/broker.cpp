#include "actors/broker.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <chrono>
#include <map>

namespace remex::actors {

namespace {

// The broker as its own supervisors see it: the public interface plus their
// reports, which no requester can send.
using broker_impl_actor = broker_actor::extend_with<report_actor>;

struct execution {
  execution_info info;
  caf::typed_response_promise<outcome> promise;
  caf::actor_addr supervisor;
};

struct broker_state {
  config::broker_settings settings;
  provider_factory make_provider;  // empty: default_provider
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, execution> executions;
  std::map<std::string, session_actor> sessions;  // by host
  static inline const char* name = "broker";
};

using self_ptr = broker_impl_actor::stateful_pointer<broker_state>;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

void complete(self_ptr self, std::uint64_t id, outcome o) {
  auto i = self->state.executions.find(id);
  if (i == self->state.executions.end() ||
      i->second.info.state != execution_info::running)
    return;  // answered already: exactly once
  i->second.info.state = execution_info::finished;
  i->second.info.result = o.to_string();
  i->second.promise.deliver(std::move(o));
  // Keep a bounded history for consoles; drop the oldest finished ones.
  while (self->state.executions.size() > 1000) {
    auto oldest = self->state.executions.begin();
    if (oldest->second.info.state == execution_info::running) break;
    self->state.executions.erase(oldest);
  }
}

// Requests to one host with the same connect options share a session (and
// its connections); other options mean another session.
std::string session_key(const exec_request& req) {
  auto& c = req.connect;
  std::string key = req.host_label();
  for (auto* part : {&c.ssh_config, &c.known_hosts}) key += '\0' + *part;
  for (auto& id : c.identities) key += '\0' + id;
  key += c.accept_new_host_key ? "\0accept" : "\0strict";
  return key + '\0' + std::to_string(c.connect_timeout_ms);
}

// What makes a request impossible to run, found before any session exists.
std::string request_problem(const exec_request& req) {
  if (req.argv.empty()) return "no command to run";
  for (auto fd : req.fds) {
    if (fd < 3) return "extra fd " + std::to_string(fd) + ": must be 3 or more";
    if (req.backend == backend_kind::ssh)
      return "extra fds need the agent backend: a plain SSH channel carries "
             "only stdin, stdout and stderr";
  }
  return {};
}

session_actor session_for(self_ptr self, const exec_request& req) {
  auto key = session_key(req);
  auto i = self->state.sessions.find(key);
  if (i != self->state.sessions.end()) return i->second;
  auto& make = self->state.make_provider;
  auto t = make ? host_transport{make(req), {}} : default_provider(req);
  auto s = spawn_session(self, std::move(t.provider),
                         self->state.settings.agent, std::move(t.shipping));
  self->state.sessions.emplace(key, s);
  return s;
}

broker_impl_actor::behavior_type broker(self_ptr self,
                                        config::broker_settings settings,
                                        provider_factory make_provider) {
  self->state.settings = std::move(settings);
  self->state.make_provider = std::move(make_provider);
  self->set_down_handler([self](caf::down_msg& dm) {
    // A supervisor that died without reporting still owes its requester an
    // answer.
    for (auto& [id, ex] : self->state.executions)
      if (ex.supervisor == dm.source &&
          ex.info.state == execution_info::running) {
        complete(self, id,
                 outcome::make_failed(
                     transport::failure_kind::lost, 255,
                     "supervisor failed: " + self->system().render(dm.reason)));
        break;
      }
  });
  return {
      [self](exec_atom, exec_request& req,
             endpoints& ends) -> caf::typed_response_promise<outcome> {
        // Before make_response_promise, which takes over the sender.
        auto requester = caf::actor_cast<caf::actor>(self->current_sender());
        auto rp = self->make_response_promise<outcome>();
        auto id = self->state.next_id++;
        auto& ex = self->state.executions[id];
        ex.info.id = id;
        ex.info.host = req.host_label();
        ex.info.argv = req.argv;
        ex.info.state = execution_info::running;
        ex.info.started_ms = now_ms();
        ex.promise = rp;
        if (auto problem = request_problem(req); !problem.empty()) {
          complete(self, id,
                   outcome::make_failed(transport::failure_kind::request, 255,
                                        problem));
          return rp;
        }
        auto session = session_for(self, req);
        auto sup = spawn_supervisor(
            self, id, std::move(req), std::move(ends), std::move(requester),
            session, report_actor{self}, self->state.settings.supervision);
        ex.supervisor = sup.address();
        return rp;
      },
      [self](list_atom) {
        std::vector<execution_info> rows;
        for (auto& [id, ex] : self->state.executions) rows.push_back(ex.info);
        return rows;
      },
      [self](done_atom, std::uint64_t id, outcome& o) {
        complete(self, id, std::move(o));
      },
  };
}

}  // namespace

broker_actor spawn_broker(caf::actor_system& sys,
                          config::broker_settings settings,
                          provider_factory make_provider) {
  return broker_actor{
      sys.spawn(broker, std::move(settings), std::move(make_provider))};
}

}  // namespace remex::actors
