// The public typed interfaces of a remex node: what a requester (the CLI, a
// peer broker, a console, another CAF program) may send and what it gets.
// Data travels as std::string bytes; every reply to a chunk is credit, so no
// stage buffers without bound. The messages a node's own actors exchange
// extend these types where they are spawned (broker.cpp, supervisor.hpp,
// stream_pump.hpp, signal_forwarder.hpp) and never appear here: nothing a
// remote node can address lets it complete, cancel or read somebody else's
// execution. An actor a node hands out (an input_actor, a signal_actor, a
// files_actor, a peer's event_sink_actor) takes messages over the wire only
// from a sender on the node it was handed to (actors/wire_guard.hpp): send
// to it from an actor there, never with anon_send.
#pragma once

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "actors/exec_request.hpp"
#include "actors/outcome.hpp"

namespace remex::actors {

// The requester's side of one output stream (stdout, stderr, extra fd N). The
// reply to a chunk is the number of bytes it consumed: the credit that lets
// the pump read more from the remote side.
using sink_actor =
    caf::typed_actor<caf::replies_to<chunk_atom, std::uint32_t,
                                     std::string>::with<std::uint64_t>,
                     caf::replies_to<eof_atom, std::uint32_t>::with<bool>>;

// Where one input stream's bytes go once the command runs (stdin, extra fd).
using input_actor = caf::typed_actor<caf::reacts_to<chunk_atom, std::string>,
                                     caf::reacts_to<eof_atom>>;

// The requester's side of one input stream: told its input_actor once the
// command runs, it sends what it reads and gets credit back for what reached
// the remote side (at most a window in flight).
using source_actor =
    caf::typed_actor<caf::reacts_to<attach_atom, input_actor>,
                     caf::reacts_to<credit_atom, std::uint64_t>>;

// Signals for the remote process group. Signals sent before the command
// runs are held and delivered once it does.
using signal_actor =
    caf::typed_actor<caf::reacts_to<signal_atom, std::int32_t>>;

// The requester's side of signals: told its signal_actor once the command
// runs.
using signal_source_actor =
    caf::typed_actor<caf::reacts_to<attach_atom, signal_actor>>;

// What the requester hands over with a request: where output goes, and who
// feeds input and signals. Any of them may be absent.
struct endpoints {
  std::map<std::uint32_t, sink_actor> sinks;
  std::map<std::uint32_t, source_actor> sources;
  signal_source_actor signals;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoints& x) {
  return f(caf::meta::type_name("remex.endpoints"), x.sinks, x.sources,
           x.signals);
}

// One execution, as its requester may steer it.
using supervisor_actor =
    caf::typed_actor<caf::reacts_to<signal_atom, std::int32_t>,
                     caf::reacts_to<cancel_atom>>;

// A summary row of the broker's registry (for consoles and tests).
struct execution_info {
  enum state_t : std::uint8_t { running, finished };
  std::uint64_t id = 0;
  std::string host;
  std::vector<std::string> argv;
  state_t state = running;
  std::int64_t started_ms = 0;
  std::string result;     // outcome::to_string() once finished
  std::string node;       // the node that runs it
  std::string requester;  // "local", or the node it came from
  std::int64_t ended_ms = 0;
  std::uint64_t bytes_in = 0;   // requester → remote
  std::uint64_t bytes_out = 0;  // remote → requester
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_info& x) {
  return f(caf::meta::type_name("remex.execution_info"), x.id, x.host, x.argv,
           x.state, x.started_ms, x.result, x.node, x.requester, x.ended_ms,
           x.bytes_in, x.bytes_out);
}

// One row of a console answer (actors/console_queries.hpp): named fields in
// the order a table shows them; a row with an "error" field says why a node
// gave no answer.
struct console_row {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  void add(std::string key, std::string value) {
    keys.push_back(std::move(key));
    values.push_back(std::move(value));
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_row& x) {
  return f(caf::meta::type_name("remex.console_row"), x.keys, x.values);
}

// Whoever watches a node (a console's watch, or a peer's hub relaying to
// its consoles): told each event as it happens, as a row whose "event"
// field says what ("started", "ended", "node up", "node down", "connection
// opened", "connection lost") and whose other fields say where.
using event_sink_actor =
    caf::typed_actor<caf::reacts_to<event_atom, console_row>>;

// One agent file session on a host (remex fs, cp, paths), held by the node
// for the requester that opened it, until it closes it or goes away.
// Requests and answers are agent protocol frames in their CBOR encoding
// (agentproto.md): a file_op frame in, its file_resp frame out; a
// path_query's paths in, the path_info frame out (the agent's last answer).
// The reply's first two elements say why there is no answer frame: a
// transport::failure_kind (0: none) and one line; the last two are the
// agent's log lines (slog level, text) that came before the answer.
using files_actor = caf::typed_actor<
    caf::replies_to<file_atom, std::string>::with<
        std::uint8_t, std::string, std::string, std::vector<std::int32_t>,
        std::vector<std::string>>,
    caf::replies_to<paths_atom, std::vector<std::string>>::with<
        std::uint8_t, std::string, std::string, std::vector<std::int32_t>,
        std::vector<std::string>>,
    caf::reacts_to<close_atom>>;

// The node's entry point: runs requests, answers each exactly once; opens
// file sessions on the request's host (only target and connect count); tells
// its host groups, name → host list (config/host_groups.hpp), which the
// requester expands itself; answers a ping (the client's link watch).
// Peers (they hold the token or a certificate of the CA, so they are as
// trusted as clients) also send:
//  - exec with the path of nodes the request passed: forwarded by a peer;
//    it runs here or fails, and is never forwarded again;
//  - peer(name, serves, its broker): a node joins (on connect, and again
//    when its configuration is reloaded); the reply is this node's name and
//    serves. Neither lets a peer reach somebody else's execution.
// Consoles (and peers answering a console) send console(words, cluster):
// ps, ps -a, hosts, peers, stats, kill ID [SIGNAL]; with cluster set the
// node asks its live peers too and merges their rows.
// watch(sink, cluster) subscribes sink to this node's events (with cluster
// set, to its live peers' too, relayed by this node) until sink goes away;
// the reply says it is in place.
using broker_actor = caf::typed_actor<
    caf::replies_to<exec_atom, exec_request, endpoints>::with<outcome>,
    caf::replies_to<exec_atom, exec_request, endpoints,
                    std::vector<std::string>>::with<outcome>,
    caf::replies_to<peer_atom, std::string, std::vector<std::string>,
                    caf::actor>::with<std::string, std::vector<std::string>>,
    caf::replies_to<list_atom>::with<std::vector<execution_info>>,
    caf::replies_to<console_atom, std::vector<std::string>,
                    bool>::with<std::vector<console_row>>,
    caf::replies_to<watch_atom, event_sink_actor, bool>::with<bool>,
    caf::replies_to<files_atom, exec_request>::with<files_actor>,
    caf::replies_to<files_atom, exec_request,
                    std::vector<std::string>>::with<files_actor>,
    caf::replies_to<groups_atom>::with<std::map<std::string, std::string>>,
    caf::replies_to<ping_atom>::with<bool>>;

}  // namespace remex::actors
