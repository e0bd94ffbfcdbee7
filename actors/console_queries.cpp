#include "actors/console_queries.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>

#include "actors/wire_guard.hpp"

namespace remex::actors {

namespace {

// A word of the operator's input as an error line quotes it: a pasted
// megabyte stays one readable line.
std::string shown(const std::string& word) {
  constexpr std::size_t most = 40;
  return word.size() <= most ? word : word.substr(0, most) + "...";
}

// A node that has not answered by then is reported, not waited for.
constexpr auto node_timeout = std::chrono::seconds(3);

std::string seconds_since(std::int64_t then_ms, std::int64_t now_ms) {
  auto s = then_ms > 0 && now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
  return std::to_string(s);
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs) out += (out.empty() ? "" : " ") + x;
  return out;
}

std::vector<console_row> ps(const node_view& v, bool all) {
  std::vector<console_row> rows;
  for (auto& e : v.executions) {
    bool running = e.state == execution_info::running;
    if (!running && !all) continue;
    console_row r;
    r.add("id", v.node + ":" + std::to_string(e.id));
    r.add("node", v.node);
    r.add("host", e.host.empty() ? "(local)" : e.host);
    r.add("requester", e.requester);
    r.add("state", running ? "running" : "finished");
    r.add("age_s", seconds_since(e.started_ms, v.now_ms));
    r.add("in", std::to_string(e.bytes_in));
    r.add("out", std::to_string(e.bytes_out));
    r.add("argv", joined(e.argv));
    if (all) r.add("outcome", running ? "-" : e.result);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<console_row> stats(const node_view& v) {
  console_row r;
  r.add("node", v.node);
  r.add("started", std::to_string(v.counters.started));
  r.add("finished", std::to_string(v.counters.finished));
  r.add("failed", std::to_string(v.counters.failed));
  r.add("running", std::to_string(v.running));
  r.add("forwarded", std::to_string(v.counters.forwarded));
  r.add("bytes", std::to_string(v.counters.bytes));
  r.add("connections", std::to_string(v.hosts.size()));
  r.add("forwarding", std::to_string(v.forwarding));
  std::size_t queued = 0;
  for (auto& h : v.hosts) queued += h.status.queued;
  r.add("queued", std::to_string(queued));
  r.add("watching", std::to_string(v.watching));
  return {r};
}

std::vector<console_row> hosts(const node_view& v) {
  std::vector<console_row> rows;
  for (auto& h : v.hosts) {
    console_row r;
    r.add("node", v.node);
    r.add("host", h.host.empty() ? "(local)" : h.host);
    r.add("state", !h.open                              ? "closed"
                   : h.executions + h.file_sessions > 0 ? "busy"
                                                        : "idle");
    r.add("executions", std::to_string(h.executions));
    r.add("file_sessions", std::to_string(h.file_sessions));
    r.add("connections", std::to_string(h.status.connections));
    r.add("channels", std::to_string(h.status.channels));
    r.add("queued", std::to_string(h.status.queued));
    r.add("max_sessions", h.status.max_sessions == 0
                              ? "-"
                              : std::to_string(h.status.max_sessions));
    r.add("agent", h.status.agent_digest.empty() ? "-" : h.status.agent_digest);
    r.add("last_error", h.last_error.empty() ? "-" : h.last_error);
    rows.push_back(std::move(r));
  }
  return rows;
}

console_row peer_row(const std::string& name, const std::string& address,
                     bool up, std::int64_t since_ms, std::int64_t now_ms) {
  console_row r;
  r.add("node", name.empty() ? "-" : name);
  r.add("address", address.empty() ? "-" : address);
  r.add("state", up ? "up" : "down");
  r.add("since_s", seconds_since(since_ms, now_ms));
  r.add("executions", up ? "?" : "-");
  return r;
}

std::vector<console_row> peers(const node_view& v) {
  std::vector<console_row> rows{
      peer_row(v.node, v.address, true, v.started_ms, v.now_ms)};
  rows.back().values.back() = std::to_string(v.running);
  for (auto& p : v.peers)
    rows.push_back(peer_row(p.name, p.address, p.up, p.since_ms, v.now_ms));
  return rows;
}

console_row error_row(const std::string& node, const std::string& why) {
  console_row r;
  r.add("node", node);
  r.add("error", why);
  return r;
}

const std::string* field(const console_row& r, const std::string& key) {
  for (std::size_t i = 0; i < r.keys.size(); ++i)
    if (r.keys[i] == key) return &r.values[i];
  return nullptr;
}

struct target {
  std::string node;
  broker_actor broker;
};

struct gather_state {
  std::vector<target> targets;
  static inline const char* name = "console_gatherer";
};

using gather_ptr = guarded_pointer<console_actor, gather_state>;
using rows_t = std::vector<console_row>;

// Asks every target `words` (this node only), then calls done with each
// node's rows in target order (an error row for a node that did not answer).
template <class Done>
void fan_out(gather_ptr self, std::vector<std::string> words, Done done) {
  auto& ts = self->state.targets;
  auto answers = std::make_shared<std::vector<rows_t>>(ts.size());
  auto left = std::make_shared<std::size_t>(ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    auto finish = [answers, left, done]() mutable {
      if (--*left == 0) done(*answers);
    };
    auto node = ts[i].node;
    self->request(ts[i].broker, node_timeout, console_atom::value, words, false)
        .then(
            [answers, i, finish](rows_t& rows) mutable {
              (*answers)[i] = std::move(rows);
              finish();
            },
            [self, answers, i, node, finish](caf::error& err) mutable {
              auto why = err == caf::sec::request_timeout
                             ? std::string{"unreachable (no answer in 3 s)"}
                             : refusal_line(self->system(), err);
              (*answers)[i] = {error_row(node, why)};
              finish();
            });
  }
}

rows_t concat(const std::vector<rows_t>& parts) {
  rows_t all;
  for (auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

console_actor::behavior_type gatherer(gather_ptr self, broker_actor local,
                                      std::string node, peer_routes peers) {
  self->state.targets.push_back({node, std::move(local)});
  for (auto& p : peers) self->state.targets.push_back({p.name, p.broker});
  return {
      [self](console_atom, std::vector<std::string>& words,
             bool) -> caf::result<rows_t> {
        auto rp = self->make_response_promise<rows_t>();
        auto answer = [self, rp](rows_t rows) mutable {
          rp.deliver(std::move(rows));
          self->quit();
        };
        auto fail = [self, rp](std::string why) mutable {
          rp.deliver(caf::make_error(caf::sec::runtime_error, std::move(why)));
          self->quit();
        };
        auto cmd = words.empty() ? std::string{} : words[0];
        if (cmd == "ps" || cmd == "stats" || cmd == "hosts" || cmd == "peers") {
          // Refused here once rather than by every node.
          std::string error;
          answer_locally(node_view{}, words, error);
          if (!error.empty()) {
            fail(std::move(error));
            return rp;
          }
        }
        if (cmd == "ps" || cmd == "stats" || cmd == "hosts") {
          fan_out(self, words, [answer](std::vector<rows_t>& parts) mutable {
            answer(concat(parts));
          });
        } else if (cmd == "peers") {
          // Who is up comes from this node; the executions of each from
          // the node itself.
          fan_out(self, {"stats"},
                  [self, answer](std::vector<rows_t>& parts) mutable {
                    auto& local = self->state.targets.front().broker;
                    self->request(local, node_timeout, console_atom::value,
                                  std::vector<std::string>{"peers"}, false)
                        .then(
                            [answer, parts](rows_t& rows) mutable {
                              for (auto& r : rows)
                                for (auto& part : parts)
                                  for (auto& s : part) {
                                    auto* a = field(s, "node");
                                    auto* b = field(r, "node");
                                    auto* n = field(s, "running");
                                    if (a && b && n && *a == *b)
                                      r.values.back() = *n;
                                  }
                              answer(std::move(rows));
                            },
                            [answer](caf::error&) mutable { answer({}); });
                  });
        } else if (cmd == "kill") {
          if (words.size() < 2 || words.size() > 3) {
            fail("usage: kill ID [SIGNAL]");
            return rp;
          }
          auto id = words[1];
          auto colon = id.rfind(':');
          auto where = colon == std::string::npos ? self->state.targets[0].node
                                                  : id.substr(0, colon);
          words[1] = colon == std::string::npos ? id : id.substr(colon + 1);
          const target* t = nullptr;
          for (auto& x : self->state.targets)
            if (x.node == where) t = &x;
          if (!t) {
            fail("kill " + shown(id) + ": no live node " + shown(where));
            return rp;
          }
          self->request(t->broker, node_timeout, console_atom::value, words,
                        false)
              .then([answer](rows_t& rows) mutable { answer(std::move(rows)); },
                    [fail, id, where, self](caf::error& err) mutable {
                      if (err == caf::sec::request_timeout)
                        fail("kill " + shown(id) + ": node " + shown(where) +
                             " unreachable (no answer in 3 s)");
                      else
                        fail(refusal_line(self->system(), err));
                    });
        } else {
          fail("unknown command '" + shown(cmd) + "' (see help)");
        }
        return rp;
      },
  };
}

}  // namespace

std::int32_t signal_number(const std::string& name) {
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
    char* end = nullptr;
    auto n = std::strtol(name.c_str(), &end, 10);
    return *end == '\0' && n > 0 && n < 65 ? static_cast<std::int32_t>(n) : 0;
  }
  auto n = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
  static const std::pair<const char*, int> known[] = {
      {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},
      {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
      {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}};
  for (auto& [k, v] : known)
    if (n == k) return v;
  return 0;
}

bool parse_kill(const std::vector<std::string>& words, std::uint64_t& id,
                std::int32_t& signo, std::string& error) {
  if (words.size() < 2 || words.size() > 3) {
    error = "usage: kill ID [SIGNAL]";
    return false;
  }
  // Digits only, and in range: strtoull alone takes "-1" and clamps what
  // overflows, so a mistyped id could name another execution.
  auto& w = words[1];
  errno = 0;
  id = std::strtoull(w.c_str(), nullptr, 10);
  if (w.empty() || w.size() > 20 ||
      w.find_first_not_of("0123456789") != std::string::npos ||
      errno == ERANGE || id == 0) {
    error = "kill " + shown(w) + ": not an execution id";
    return false;
  }
  signo = words.size() == 3 ? signal_number(words[2]) : SIGTERM;
  if (signo == 0) {
    error = "kill: unknown signal " + shown(words[2]);
    return false;
  }
  return true;
}

std::vector<console_row> answer_locally(const node_view& view,
                                        const std::vector<std::string>& words,
                                        std::string& error) {
  auto cmd = words.empty() ? std::string{} : words[0];
  if (cmd == "ps" && words.size() == 1) return ps(view, false);
  if (cmd == "ps" && words.size() == 2 && words[1] == "-a")
    return ps(view, true);
  if (cmd == "stats" && words.size() == 1) return stats(view);
  if (cmd == "hosts" && words.size() == 1) return hosts(view);
  if (cmd == "peers" && words.size() == 1) return peers(view);
  error = cmd == "ps" || cmd == "stats" || cmd == "hosts" || cmd == "peers"
              ? cmd + ": unexpected argument (see help)"
              : "unknown command '" + shown(cmd) + "' (see help)";
  return {};
}

console_actor spawn_console_gatherer(caf::actor_system& sys, broker_actor local,
                                     std::string node, peer_routes peers) {
  return sys.spawn(gatherer, std::move(local), std::move(node),
                   std::move(peers));
}

}  // namespace remex::actors
