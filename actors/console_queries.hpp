// What the admin console asks a node (interfaces.hpp: console), answered
// from a snapshot of the broker's registry, and the gatherer that asks the
// whole cluster for a console and merges what each node says.
#pragma once

#include <caf/fwd.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/peer_types.hpp"
#include "actors/refusal.hpp"
#include "transport/session_provider.hpp"

namespace remex::actors {

// Counters a node keeps for `stats`.
struct node_counters {
  std::uint64_t started = 0;
  std::uint64_t finished = 0;  // ended with an exit code or signal
  std::uint64_t failed = 0;    // failed, timed out or cancelled
  std::uint64_t forwarded = 0;
  std::uint64_t bytes = 0;  // in and out, of executions run here
};

// A peer this node has seen, up or since lost, or a configured one that
// never came up (no name yet; down since this node started).
struct peer_seen {
  std::string name;
  std::string address;  // HOST:PORT as configured, or where it came from
  bool up = false;
  std::int64_t since_ms = 0;
};

// A host connection the node holds.
struct host_view {
  std::string host;
  std::size_t executions = 0;  // running over it now
  std::size_t file_sessions = 0;
  bool open = false;              // a session to it exists now
  std::string last_error;         // the last failed outcome of a command there
  transport::host_status status;  // its connections, as the transport says
};

// The node as a console sees it at one moment.
struct node_view {
  std::string node;
  std::string address;  // where it listens; empty: embedded
  std::int64_t started_ms = 0;
  std::int64_t now_ms = 0;
  std::vector<execution_info> executions;
  node_counters counters;
  std::vector<host_view> hosts;
  std::vector<peer_seen> peers;
  std::size_t running = 0;
  std::size_t forwarding = 0;  // requests passed to peers, not yet answered
  std::size_t watching = 0;    // consoles and peers' relays watching it
};

// ps, ps -a, hosts, peers, stats for this node alone; anything else: the
// line that says why (kill is the broker's, it needs the supervisors).
std::vector<console_row> answer_locally(const node_view& view,
                                        const std::vector<std::string>& words,
                                        std::string& error);

// "kill ID [SIGNAL]" with ID this node's number: the id and the signal, or
// the line that says why not.
bool parse_kill(const std::vector<std::string>& words, std::uint64_t& id,
                std::int32_t& signo, std::string& error);

// A signal by name (TERM, SIGTERM) or number; 0 when unknown.
std::int32_t signal_number(const std::string& name);

using console_actor =
    caf::typed_actor<caf::replies_to<console_atom, std::vector<std::string>,
                                     bool>::with<std::vector<console_row>>>;

// Asks this node and every live peer (one request each, with a timeout: a
// silent node becomes an error row, never a hang), merges the rows, answers
// once and quits. kill goes to the node its id names ("NODE:ID").
console_actor spawn_console_gatherer(caf::actor_system& sys, broker_actor local,
                                     std::string node, peer_routes peers);

}  // namespace remex::actors
