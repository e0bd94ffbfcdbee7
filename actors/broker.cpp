#include "actors/broker.hpp"

#include <algorithm>
#include <atomic>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <set>

#include "actors/console_queries.hpp"
#include "actors/event_hub.hpp"
#include "actors/file_service.hpp"
#include "actors/log.hpp"
#include "actors/peer_forwarder.hpp"
#include "actors/serves.hpp"
#include "actors/wire_guard.hpp"
#include "config/daemon_settings.hpp"
#include "config/secret_env.hpp"
#include "transport/file_version.hpp"

namespace remex::actors {

namespace {

// The broker as its own supervisors and timers see it: the node's interface
// plus their reports, which no requester can send.
using broker_impl_actor = broker_admin_actor::extend_with<report_actor>::extend<
    caf::reacts_to<idle_atom, std::string, std::uint64_t>,
    caf::reacts_to<shutdown_atom>>;

struct execution {
  execution_info info;
  caf::typed_response_promise<outcome> promise;
  supervisor_actor supervisor;
  std::string session_key;
  std::string requester;  // for the log
  std::chrono::steady_clock::time_point started;
  bool shut_down = false;  // killed because the broker stops
  std::shared_ptr<byte_counts> bytes = std::make_shared<byte_counts>();
  // The counts as they are now, into the registry row.
  void take_counts() {
    info.bytes_in = bytes->in.load(std::memory_order_relaxed);
    info.bytes_out = bytes->out.load(std::memory_order_relaxed);
  }
};

// One warm connection to a host, and whether anybody uses it.
struct session_entry {
  session_actor actor;
  // Its transport, asked for the host's connections (hosts, stats).
  std::shared_ptr<transport::session_provider> provider;
  std::size_t running = 0;
  std::uint64_t last_use = 0;  // bumped per execution: stale idle timers
};

struct broker_state {
  config::broker_settings settings;
  provider_factory make_provider;  // empty: default_provider
  std::uint64_t next_id = 1;
  std::size_t running = 0;
  std::map<std::uint64_t, execution> executions;
  std::map<std::string, session_entry> sessions;         // by session_key
  std::map<caf::actor_addr, std::string> file_services;  // → session_key
  bool closing = false;                                  // shutdown asked
  caf::typed_response_promise<bool> closed;
  peer_directory_actor directory;  // none: no peers (an embedded broker)
  peer_routes routes;
  // Requests passed on to peers and not yet answered: they count as
  // running when the node shuts down.
  std::map<caf::actor_addr, forwarder_actor> forwarders;
  // File sessions held on peers for this node's clients: ended with the
  // node (the broker's exit), or when their client goes.
  std::map<caf::actor_addr, files_forwarder_actor> files_forwarders;
  // For consoles: what ran, and which peers came and went.
  node_counters counters;
  std::vector<peer_seen> peers_seen;
  std::int64_t started_ms = 0;
  std::deque<std::uint64_t> finished;              // ids, oldest first
  std::map<std::string, std::string> last_errors;  // host → failed outcome
  event_hub_actor hub;  // who watches this node (console watch)
  std::shared_ptr<std::atomic<std::size_t>> watching =
      std::make_shared<std::atomic<std::size_t>>(0);
  static inline const char* name = "broker";
  // A transport thread may outlive the broker (and the actor system): it
  // must stop telling a hub that is gone.
  ~broker_state() {
    for (auto& entry : sessions)
      if (entry.second.provider)
        entry.second.provider->watch_connections(nullptr);
  }
};

using self_ptr = guarded_pointer<broker_impl_actor, broker_state>;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

// Requests to one host with the same connect options share a session (and
// its connections); other options mean another session. The files' versions
// count: a connection made under an older ssh config, known hosts file or
// key is not reused (a host key removed from known_hosts, or a config
// edited, counts from the next request, as without a broker).
std::string session_key(const exec_request& req) {
  auto& c = req.connect;
  // Fields joined by a byte no path or option contains.
  std::string key = req.host_label();
  auto add = [&key](const std::string& part) { key += '\x1f' + part; };
  if (!req.target.empty()) {
    auto home = config::home_directory();
    add(transport::file_version(c.ssh_config.empty() ? home + "/.ssh/config"
                                                     : c.ssh_config));
    add(transport::file_version(
        c.known_hosts.empty() ? home + "/.ssh/known_hosts" : c.known_hosts));
  }
  for (auto& id : c.identities) add(transport::file_version(id));
  add(c.accept_new_host_key ? "accept-new" : "strict");
  add(std::to_string(c.connect_timeout_ms));
  add(std::to_string(c.keepalive_ms));
  add(std::to_string(c.max_connections));
  return key;
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

void apply_connect_defaults(const config::connect_options& d,
                            config::connect_options& c) {
  if (c.identities.empty()) c.identities = d.identities;
  if (c.ssh_config.empty()) c.ssh_config = d.ssh_config;
  if (c.known_hosts.empty()) c.known_hosts = d.known_hosts;
  c.accept_new_host_key = c.accept_new_host_key || d.accept_new_host_key;
  if (c.connect_timeout_ms == 0) c.connect_timeout_ms = d.connect_timeout_ms;
  if (c.keepalive_ms == 0) c.keepalive_ms = d.keepalive_ms;
  if (c.max_connections == 0) c.max_connections = d.max_connections;
}

std::string node_label(self_ptr self) {
  auto& name = self->state.settings.node_name;
  return name.empty() ? "local" : name;
}

// Who asked, for the log: this node's own programs, or a peer's node id.
std::string requester_label(self_ptr self, const caf::strong_actor_ptr& s) {
  if (!s) return "anonymous";
  if (s->node() == self->node()) return "local";
  return to_string(s->node());
}

// Who asked, for a console: "local", or a client as the start of its node
// id and its process id ("client BFFADF3A#2322").
std::string requester_short(self_ptr self, const caf::strong_actor_ptr& s) {
  auto full = requester_label(self, s);
  auto hash = full.find('#');
  if (hash == std::string::npos || hash < 8) return full;
  return "client " + full.substr(0, 8) + full.substr(hash);
}

session_actor session_for(self_ptr self, const std::string& key,
                          const exec_request& req) {
  auto& entry = self->state.sessions[key];
  if (!entry.actor) {
    auto& make = self->state.make_provider;
    auto t = make ? host_transport{make(req), {}} : default_provider(req);
    entry.provider = t.provider;
    // Called on the transport's thread: a message is all it may do.
    if (t.provider)
      t.provider->watch_connections(
          [hub = caf::actor_cast<caf::actor_addr>(self->state.hub),
           node = node_label(self),
           host = req.host_label()](bool up, const std::string& why) {
            auto row =
                event_row(up ? "connection opened" : "connection lost", node);
            row.add("host", host);
            if (!up) row.add("why", why);
            // Weak: a watcher must not keep the hub (nor its system) alive.
            if (auto h = caf::actor_cast<event_hub_actor>(hub))
              caf::anon_send(h, event_atom::value, std::move(row));
          });
    entry.actor =
        spawn_session(self, std::move(t.provider), self->state.settings.agent,
                      std::move(t.shipping));
  }
  ++entry.running;
  ++entry.last_use;
  return entry.actor;
}

void stop_sessions(self_ptr self) {
  for (auto& [key, entry] : self->state.sessions)
    self->send_exit(entry.actor, caf::exit_reason::user_shutdown);
  self->state.sessions.clear();
}

// The execution no longer needs its session; once nobody does, the session
// stays warm for idle_timeout, then closes.
void release_session(self_ptr self, const std::string& key) {
  auto i = self->state.sessions.find(key);
  if (i == self->state.sessions.end() || --i->second.running > 0) return;
  self->delayed_send(self, self->state.settings.idle_timeout, idle_atom::value,
                     key, i->second.last_use);
}

// Finished executions a console still shows (ps -a).
constexpr std::size_t finished_kept = 100;

// Shutting down and nothing runs any more, here or passed on: done.
void maybe_closed(self_ptr self) {
  auto& st = self->state;
  if (st.closing && st.running == 0 && st.forwarders.empty() &&
      st.closed.pending()) {
    stop_sessions(self);
    st.closed.deliver(true);
  }
}

void complete(self_ptr self, std::uint64_t id, outcome o) {
  auto& st = self->state;
  auto i = st.executions.find(id);
  if (i == st.executions.end() ||
      i->second.info.state != execution_info::running)
    return;  // answered already: exactly once
  auto& ex = i->second;
  if (ex.shut_down)
    o = outcome::make_failed(transport::failure_kind::cluster, 255,
                             "broker shutting down");
  ex.info.state = execution_info::finished;
  ex.info.result = o.to_string();
  ex.info.ended_ms = now_ms();
  ex.take_counts();
  st.counters.bytes += ex.info.bytes_in + ex.info.bytes_out;
  if (o.kind == outcome::exited || o.kind == outcome::signaled)
    ++st.counters.finished;
  else
    ++st.counters.failed;
  if (o.kind == outcome::failed && ex.supervisor)
    st.last_errors[ex.info.host] = ex.info.result;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - ex.started)
                .count();
  log_actors()->info("exec {} end: {} after {} ms (host {}, requester {})", id,
                     ex.info.result, ms, ex.info.host, ex.requester);
  auto ended = event_row("ended", ex.info.node);
  ended.add("id", ex.info.node + ":" + std::to_string(id));
  ended.add("outcome", ex.info.result);
  self->send(st.hub, event_atom::value, std::move(ended));
  ex.promise.deliver(std::move(o));
  if (ex.supervisor) {
    --st.running;
    release_session(self, ex.session_key);
  }
  // Keep a bounded history for consoles; drop the oldest finished ones.
  st.finished.push_back(id);
  while (st.finished.size() > finished_kept) {
    st.executions.erase(st.finished.front());
    st.finished.pop_front();
  }
  maybe_closed(self);
}

// DIR/ID-HOST-TIME.rec: sorted by id, the host readable, unique across
// restarts (ids start at 1 again).
std::string recording_path(const std::string& dir, std::uint64_t id,
                           const exec_request& req) {
  std::string host;
  for (char c : req.host_label())
    host += std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                    c == '-' || c == '@'
                ? c
                : '_';
  char when[32];
  auto t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  char num[24];
  std::snprintf(num, sizeof num, "%06llu", static_cast<unsigned long long>(id));
  return dir + "/" + num + "-" + host + "-" + when + ".rec";
}

caf::typed_response_promise<outcome> start(self_ptr self, exec_request& req,
                                           endpoints& ends,
                                           const std::string& via = {}) {
  auto& st = self->state;
  // Before make_response_promise, which takes over the sender.
  auto sender = self->current_sender();
  auto rp = self->make_response_promise<outcome>();
  auto id = st.next_id++;
  auto& ex = st.executions[id];
  ex.info.id = id;
  ex.info.host = req.host_label();
  ex.info.argv = req.argv;
  ex.info.state = execution_info::running;
  ex.info.started_ms = now_ms();
  ex.promise = rp;
  ex.requester = via.empty() ? requester_label(self, sender) : "node " + via;
  ex.info.node = node_label(self);
  ex.info.requester =
      via.empty() ? requester_short(self, sender) : "node " + via;
  ++st.counters.started;
  ex.started = std::chrono::steady_clock::now();
  log_actors()->info("exec {} start: {} on {} (requester {})", id,
                     req.argv.empty() ? "" : req.argv[0], ex.info.host,
                     ex.requester);
  auto started = event_row("started", ex.info.node);
  started.add("id", ex.info.node + ":" + std::to_string(id));
  started.add("host", ex.info.host.empty() ? "(local)" : ex.info.host);
  std::string argv;
  for (auto& a : req.argv) argv += (argv.empty() ? "" : " ") + a;
  started.add("argv", argv);
  self->send(st.hub, event_atom::value, std::move(started));
  auto refuse = [&](std::string why) {
    complete(self, id,
             outcome::make_failed(why == "broker shutting down"
                                      ? transport::failure_kind::cluster
                                      : transport::failure_kind::request,
                                  255, std::move(why)));
    return rp;
  };
  if (st.closing) return refuse("broker shutting down");
  if (auto problem = request_problem(req); !problem.empty())
    return refuse(std::move(problem));
  if (st.settings.max_executions > 0 &&
      st.running >= st.settings.max_executions)
    return refuse("broker busy: " + std::to_string(st.running) +
                  " executions running (its limit)");
  apply_connect_defaults(st.settings.connect_defaults, req.connect);
  for (auto& p : config::default_secret_env()) req.secret_env.push_back(p);
  for (auto& p : st.settings.secret_env) req.secret_env.push_back(p);
  if (req.record.empty() && !st.settings.record_dir.empty())
    req.record = recording_path(st.settings.record_dir, id, req);
  ex.session_key = session_key(req);
  auto session = session_for(self, ex.session_key, req);
  ++st.running;
  ex.supervisor =
      spawn_supervisor(self, id, std::move(req), std::move(ends),
                       caf::actor_cast<caf::actor>(sender), session,
                       report_actor{self}, st.settings.supervision, ex.bytes);
  return rp;
}

// A file session on the request's host, over the host's warm session
// (its connection and checked agent), for the requester alone.
caf::result<files_actor> open_files(self_ptr self, exec_request& req) {
  auto& st = self->state;
  if (st.closing)
    return caf::make_error(caf::sec::runtime_error, "broker shutting down");
  auto sender = self->current_sender();
  auto requester = caf::actor_cast<caf::actor>(sender);
  log_actors()->info("files on {} (requester {})", req.host_label(),
                     requester_label(self, sender));
  apply_connect_defaults(st.settings.connect_defaults, req.connect);
  auto key = session_key(req);
  auto session = session_for(self, key, req);
  auto rp = self->make_response_promise<files_actor>();
  self->request(session, caf::infinite, files_atom::value)
      .then(
          [self, rp, requester, key](file_session_ptr& files) mutable {
            // The session stays in use (not idle) while the service lives.
            auto service =
                spawn_file_service(self, std::move(files), requester);
            // Only the requester's node may drive it over the wire.
            admit(service, requester);
            self->monitor(service);
            self->state.file_services.emplace(service.address(), key);
            rp.deliver(std::move(service));
          },
          [self, rp, key](caf::error& err) mutable {
            rp.deliver(std::move(err));
            release_session(self, key);
          });
  return rp;
}

// The live peer that runs a target this node does not serve (config
// order), or null.
const peer_route* route_for(self_ptr self, const exec_request& req) {
  for (auto& r : self->state.routes)
    if (serves_target(r.serves, req.target)) return &r;
  return nullptr;
}

outcome unserved() {
  return outcome::make_failed(transport::failure_kind::cluster, 255,
                              "no node serves it");
}

// A request from a client: run here, on the peer that serves its target
// (one hop, answered by the forwarder), or nowhere.
caf::result<outcome> route(self_ptr self, exec_request& req, endpoints& ends) {
  auto& st = self->state;
  if (st.closing || serves_target(st.settings.serves, req.target))
    return start(self, req, ends);
  auto requester = requester_label(self, self->current_sender());
  auto* r = route_for(self, req);
  if (!r) {
    log_actors()->info("exec on {}: no node serves it (requester {})",
                       req.host_label(), requester);
    return unserved();
  }
  log_actors()->info("exec on {} forwarded to node {} (requester {})",
                     req.host_label(), r->name, requester);
  ++st.counters.forwarded;
  auto fwd = spawn_forwarder(self, r->broker, r->name, {st.settings.node_name});
  self->monitor(fwd);
  st.forwarders.emplace(fwd.address(), fwd);
  return self->delegate(fwd, exec_atom::value, std::move(req), std::move(ends));
}

// A file session routes like a request; its stand-in on this node holds
// it for the client (peer_forwarder.hpp).
caf::result<files_actor> route_files(self_ptr self, exec_request& req) {
  auto& st = self->state;
  if (st.closing || serves_target(st.settings.serves, req.target))
    return open_files(self, req);
  auto* r = route_for(self, req);
  if (!r) return caf::make_error(caf::sec::runtime_error, "no node serves it");
  auto fwd = spawn_files_forwarder(self, r->broker, {st.settings.node_name});
  self->monitor(fwd);
  st.files_forwarders.emplace(fwd.address(), fwd);
  return self->delegate(fwd, files_atom::value, std::move(req));
}

caf::result<bool> shut_down(self_ptr self, caf::timespan grace) {
  auto& st = self->state;
  st.closing = true;
  if (st.running == 0 && st.forwarders.empty()) {
    stop_sessions(self);
    return true;
  }
  log_actors()->info("shutting down: {} executions still running",
                     st.running + st.forwarders.size());
  st.closed = self->make_response_promise<bool>();
  self->delayed_send(self, grace, shutdown_atom::value);
  return st.closed;
}

// The grace is over: what still runs is killed; its requester hears
// "broker shutting down" once the remote process group is gone.
void kill_remaining(self_ptr self) {
  // A forwarder told to stop answers "broker shutting down"; the peer then
  // kills the command (its requester is gone).
  for (auto& [addr, fwd] : self->state.forwarders)
    self->send_exit(fwd, caf::exit_reason::user_shutdown);
  for (auto& [id, ex] : self->state.executions)
    if (ex.info.state == execution_info::running && ex.supervisor) {
      ex.shut_down = true;
      self->send(ex.supervisor, cancel_atom::value);
    }
}

void peer_event(self_ptr self, const peer_seen& p) {
  // The node as this node sees it: its name, and where it is.
  auto row = event_row(p.up ? "node up" : "node down", p.name);
  row.add("address", p.address.empty() ? "-" : p.address);
  row.add("seen_by", node_label(self));
  self->send(self->state.hub, event_atom::value, std::move(row));
}

// A peer that is in routes is up; one that was and is not, down since then;
// a configured one (down_configured: its address) that never came up, down
// since this node started.
void note_peers(self_ptr self, const peer_routes& routes,
                const std::vector<std::string>& down_configured) {
  auto& st = self->state;
  auto& seen = st.peers_seen;
  auto now = now_ms();
  for (auto& r : routes) {
    peer_seen* p = nullptr;
    for (auto& s : seen)
      if (s.name == r.name ||
          (s.name.empty() && !r.address.empty() && s.address == r.address))
        p = &s;
    if (!p) {
      seen.push_back({r.name, r.address, false, now});
      p = &seen.back();
    }
    p->name = r.name;
    if (!r.address.empty()) p->address = r.address;
    if (!p->up) {
      p->up = true;
      p->since_ms = now;
      peer_event(self, *p);
    }
  }
  for (auto& p : seen) {
    bool up = false;
    for (auto& r : routes) up = up || (!p.name.empty() && r.name == p.name);
    if (p.up && !up) {
      p.up = false;
      p.since_ms = now;
      peer_event(self, p);
    }
  }
  // A configured peer that joined by itself first was listed twice, by
  // its address and then by its name: keep the named one.
  std::set<std::string> named;
  for (auto& x : seen)
    if (!x.name.empty()) named.insert(x.address);
  seen.erase(std::remove_if(seen.begin(), seen.end(),
                            [&](const peer_seen& x) {
                              return x.name.empty() && named.count(x.address);
                            }),
             seen.end());
  for (auto& a : down_configured) {
    bool known = false;
    for (auto& p : seen) known = known || p.address == a;
    if (!known) seen.push_back({"", a, false, st.started_ms});
  }
}

node_view console_view(self_ptr self) {
  auto& st = self->state;
  node_view v;
  v.node = node_label(self);
  v.address = st.settings.listen_address;
  v.started_ms = st.started_ms;
  v.now_ms = now_ms();
  for (auto& [id, ex] : st.executions) {
    if (ex.info.state == execution_info::running) ex.take_counts();
    v.executions.push_back(ex.info);
  }
  // Bytes of running executions count as moved already.
  for (auto& e : v.executions)
    if (e.state == execution_info::running)
      v.counters.bytes += e.bytes_in + e.bytes_out;
  v.counters = st.counters;
  for (auto& [key, entry] : st.sessions) {
    host_view h;
    h.host = key.substr(0, key.find('\x1f'));
    h.executions = entry.running;
    for (auto& [addr, k] : st.file_services)
      if (k == key) ++h.file_sessions;
    h.executions -= std::min(h.executions, h.file_sessions);
    h.open = true;
    if (entry.provider) h.status = entry.provider->status();
    if (auto e = st.last_errors.find(h.host); e != st.last_errors.end())
      h.last_error = e->second;
    v.hosts.push_back(std::move(h));
  }
  // Hosts whose connection has gone since their last failure.
  for (auto& [host, error] : st.last_errors) {
    bool listed = false;
    for (auto& h : v.hosts) listed = listed || h.host == host;
    if (!listed) v.hosts.push_back({host, 0, 0, false, error, {}});
  }
  v.peers = st.peers_seen;
  v.running = st.running;
  v.forwarding = st.forwarders.size();
  v.watching = st.watching->load();
  return v;
}

// kill ID [SIGNAL] on this node: the supervisor signals the remote process
// group; the requester then sees the command end by that signal.
caf::result<std::vector<console_row>> console_kill(
    self_ptr self, const std::vector<std::string>& words) {
  std::uint64_t id = 0;
  std::int32_t signo = 0;
  std::string error;
  if (!parse_kill(words, id, signo, error))
    return caf::make_error(caf::sec::runtime_error, std::move(error));
  auto label = node_label(self) + ":" + std::to_string(id);
  auto i = self->state.executions.find(id);
  if (i == self->state.executions.end())
    return caf::make_error(caf::sec::runtime_error,
                           "kill " + label + ": no such execution");
  auto& ex = i->second;
  if (ex.info.state != execution_info::running || !ex.supervisor)
    return caf::make_error(
        caf::sec::runtime_error,
        "kill " + label + ": not running (" + ex.info.result + ")");
  log_actors()->info("exec {} signal {} from a console (requester {})", id,
                     signo, requester_label(self, self->current_sender()));
  self->send(ex.supervisor, signal_atom::value, signo);
  console_row r;
  r.add("id", label);
  r.add("signal", std::to_string(signo));
  r.add("result", "sent");
  return std::vector<console_row>{r};
}

broker_impl_actor::behavior_type broker(self_ptr self,
                                        config::broker_settings settings,
                                        provider_factory make_provider) {
  self->state.settings = std::move(settings);
  self->state.make_provider = std::move(make_provider);
  self->state.started_ms = now_ms();
  self->state.hub = spawn_event_hub(self, self->state.watching);
  // An exit message bypasses the typed interface: from another node it is
  // a client trying to stop the node's broker, which only the node may do.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.source && em.source.node() != self->node()) {
      log_actors()->warn("ignored an exit request from node {}",
                         to_string(em.source.node()));
      return;
    }
    for (auto& [addr, fwd] : self->state.files_forwarders)
      self->send_exit(fwd, caf::exit_reason::user_shutdown);
    self->send_exit(self->state.hub, caf::exit_reason::user_shutdown);
    self->quit(em.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    if (self->state.files_forwarders.erase(dm.source) > 0) return;
    if (self->state.forwarders.erase(dm.source) > 0) {
      maybe_closed(self);
      return;
    }
    auto& services = self->state.file_services;
    if (auto i = services.find(dm.source); i != services.end()) {
      release_session(self, i->second);
      services.erase(i);
      return;
    }
    // A supervisor that died without reporting still owes its requester an
    // answer.
    for (auto& [id, ex] : self->state.executions)
      if (ex.supervisor.address() == dm.source &&
          ex.info.state == execution_info::running) {
        complete(self, id,
                 outcome::make_failed(
                     transport::failure_kind::lost, 255,
                     "supervisor failed: " + self->system().render(dm.reason)));
        break;
      }
  });
  return {
      [self](exec_atom, exec_request& req, endpoints& ends) {
        return route(self, req, ends);
      },
      [self](exec_atom, exec_request& req, endpoints& ends,
             std::vector<std::string>& path) -> caf::result<outcome> {
        // Passed on by a peer: here or nowhere, never further.
        if (!serves_target(self->state.settings.serves, req.target))
          return unserved();
        return start(self, req, ends, path.empty() ? "?" : path.front());
      },
      [self](files_atom, exec_request& req) -> caf::result<files_actor> {
        return route_files(self, req);
      },
      [self](files_atom, exec_request& req,
             std::vector<std::string>&) -> caf::result<files_actor> {
        if (!serves_target(self->state.settings.serves, req.target))
          return caf::make_error(caf::sec::runtime_error, "no node serves it");
        return open_files(self, req);
      },
      [self](groups_atom) { return self->state.settings.host_groups; },
      [](ping_atom) { return true; },
      [self](peer_atom, std::string& name, std::vector<std::string>& serves,
             caf::actor& broker)
          -> caf::result<std::string, std::vector<std::string>> {
        auto& dir = self->state.directory;
        if (!dir)
          return caf::make_error(caf::sec::runtime_error, "takes no peers");
        return self->delegate(dir, peer_atom::value, std::move(name),
                              std::move(serves), std::move(broker));
      },
      [self](peer_atom, peer_directory_actor& dir) {
        self->state.directory = std::move(dir);
      },
      [self](routes_atom, peer_routes& routes) {
        note_peers(self, routes, {});
        self->send(self->state.hub, routes_atom::value, routes);
        self->state.routes = std::move(routes);
      },
      [self](routes_atom, peer_routes& routes,
             std::vector<std::string>& down_configured) {
        note_peers(self, routes, down_configured);
        self->send(self->state.hub, routes_atom::value, routes);
        self->state.routes = std::move(routes);
      },
      [self](watch_atom, event_sink_actor& sink, bool cluster) {
        return self->delegate(self->state.hub, watch_atom::value,
                              std::move(sink), cluster);
      },
      [self](console_atom, std::vector<std::string>& words,
             bool cluster) -> caf::result<std::vector<console_row>> {
        if (cluster) {
          auto g = spawn_console_gatherer(self->system(),
                                          caf::actor_cast<broker_actor>(self),
                                          node_label(self), self->state.routes);
          return self->delegate(g, console_atom::value, std::move(words), true);
        }
        if (!words.empty() && words[0] == "kill")
          return console_kill(self, words);
        std::string error;
        auto rows = answer_locally(console_view(self), words, error);
        if (!error.empty())
          return caf::make_error(caf::sec::runtime_error, std::move(error));
        return rows;
      },
      [self](list_atom) {
        std::vector<execution_info> rows;
        for (auto& [id, ex] : self->state.executions) rows.push_back(ex.info);
        return rows;
      },
      [self](done_atom, std::uint64_t id, outcome& o) {
        complete(self, id, std::move(o));
      },
      [self](shutdown_atom, caf::timespan grace) {
        return shut_down(self, grace);
      },
      [self](shutdown_atom) { kill_remaining(self); },
      [self](settings_atom, config::broker_settings& s) {
        self->state.settings = std::move(s);
      },
      [self](idle_atom, const std::string& key, std::uint64_t last_use) {
        auto i = self->state.sessions.find(key);
        if (i == self->state.sessions.end() || i->second.running > 0 ||
            i->second.last_use != last_use)
          return;  // used since the timer started
        self->send_exit(i->second.actor, caf::exit_reason::user_shutdown);
        self->state.sessions.erase(i);
      },
  };
}

}  // namespace

broker_admin_actor spawn_broker(caf::actor_system& sys,
                                config::broker_settings settings,
                                provider_factory make_provider) {
  return broker_admin_actor{
      sys.spawn(broker, std::move(settings), std::move(make_provider))};
}

}  // namespace remex::actors
