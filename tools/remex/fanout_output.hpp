// remex fanout's output: the writers that own stdout and stderr, the sinks
// each host's streams go to, and the texts of the three modes (--stream,
// --collate, --json).
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <optional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "tools/remex/json_text.hpp"

namespace remex::cli {

using progress_atom = caf::atom_constant<caf::atom("progress")>;

// A sink of one host's stream that also answers done_atom, once the
// execution is over, with what it collected (flushing what it holds first).
using host_sink_actor = actors::sink_actor::extend<
    caf::replies_to<actors::done_atom>::with<std::string>>;

// The one actor that writes to fd (detached: write() may block). Takes
// std::string (replies true once written: the credit of the sink that sent
// it), and on a terminal stderr (progress_atom, line) keeps a live line at
// the bottom, redrawn below whatever else is written; (done_atom) clears it
// and replies true. Lines from different hosts never mix: each message is
// written whole.
caf::actor spawn_fd_writer(caf::actor_system& sys, int fd, bool live_line);

// --stream: splits the stream into lines and sends each as "PREFIXline\n"
// to writer; a last line without newline is written, newline added, at EOF
// or at done_atom. Replies "" to done_atom.
host_sink_actor spawn_line_sink(caf::actor_system& sys, std::string prefix,
                                caf::actor writer);

// --collate, --json: keeps the stream in memory; done_atom hands it over.
host_sink_actor spawn_collect_sink(caf::actor_system& sys);

// A stdin that is empty: EOF as soon as the command runs.
actors::source_actor spawn_empty_source(caf::actor_system& sys);

// How one host ended, as the output modes see it.
struct host_result {
  std::string host;
  enum status_t { ok, failed, unreachable, timed_out } status = ok;
  std::optional<int> exit_code;  // the command's own; empty: never exited
  std::optional<int> signal;
  int code = 0;  // for remex's exit code and collate: 128+N, 124, 255...
  std::string out, err;
  double duration_s = 0;
  std::string error;  // one line; empty: none
};

// --json: one line, newline included.
std::string json_line(const host_result& r);

// --collate: hosts with the same stdout and code grouped, in input order.
std::string collate_text(const std::vector<host_result>& in_input_order);

}  // namespace remex::cli
