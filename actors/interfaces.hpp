// Typed interfaces of the remex actors. Data travels as std::string bytes;
// every reply to a chunk is credit, so no stage buffers without bound.
#pragma once

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <memory>
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

// What the requester hands over with a request: where output goes, and the
// actors that feed input (stdin, extra fds, signals). Each source is told
// (attach_atom, supervisor_actor) once the command runs; it then sends chunk,
// eof and signal messages to the supervisor and gets credit back.
struct endpoints {
  std::map<std::uint32_t, sink_actor> sinks;
  std::vector<caf::actor> sources;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoints& x) {
  return f(caf::meta::type_name("remex.endpoints"), x.sinks, x.sources);
}

// One execution's owner, as requesters and its own children see it.
using supervisor_actor = caf::typed_actor<
    // input from the requester's sources
    caf::reacts_to<chunk_atom, std::uint32_t, std::string>,
    caf::reacts_to<eof_atom, std::uint32_t>,
    caf::reacts_to<signal_atom, std::int32_t>, caf::reacts_to<cancel_atom>,
    // an output pump's sink failed (the requester's end of stream s is gone)
    caf::reacts_to<cancel_atom, std::uint32_t, std::string>,
    // from the transport listener and its own children
    caf::reacts_to<exited_atom, outcome>,
    caf::reacts_to<done_atom, std::uint32_t>,
    caf::reacts_to<log_atom, std::int32_t, std::string>,
    caf::reacts_to<deadline_atom>>;

// A summary row of the broker's registry (for consoles and tests).
struct execution_info {
  std::uint64_t id = 0;
  std::string host;
  std::vector<std::string> argv;
  std::string state;  // running, finished
  std::int64_t started_ms = 0;
  std::string result;  // outcome::to_string() once finished
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, execution_info& x) {
  return f(caf::meta::type_name("remex.execution_info"), x.id, x.host, x.argv,
           x.state, x.started_ms, x.result);
}

// The node's entry point: runs requests, answers each exactly once.
using broker_actor = caf::typed_actor<
    caf::replies_to<exec_atom, exec_request, endpoints>::with<outcome>,
    caf::replies_to<list_atom>::with<std::vector<execution_info>>,
    caf::reacts_to<done_atom, std::uint64_t, outcome>>;

}  // namespace remex::actors
