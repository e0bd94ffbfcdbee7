// Which broker the CLI asks: an embedded one in this process (the default),
// or a remexd given with --broker / $REMEX_BROKER, reached with its token.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <string>

#include "actors/interfaces.hpp"
#include "tools/remex/run_options.hpp"

namespace remex::cli {

class broker_client {
 public:
  // Resolves --broker / $REMEX_BROKER and --token-file / $REMEX_TOKEN_FILE /
  // the default token path, and readies cfg: the link, and the scheduler
  // every CLI command runs on. Empty when fine, else one line for
  // "remex: LINE".
  std::string prepare(const run_options& o, caf::actor_system_config& cfg);
  // prepare(), its line said on stderr: false then (the command exits 255).
  bool ready(const run_options& o, caf::actor_system_config& cfg);

  // The broker: spawned here, or connected. A null handle when the remexd
  // cannot be reached; error then holds the line.
  actors::broker_actor open(caf::actor_system& sys, std::string& error);
  // open(), or its line said and the process ended with 255 (the link's
  // threads are not joined, as at every CLI exit).
  actors::broker_actor open_or_exit(caf::actor_system& sys);

  // What ends when the broker can no longer be reached: monitor it to fail
  // what waits on the broker. A remexd's link watch (node/link_watch.hpp),
  // or the embedded broker itself. Null before open().
  caf::actor liveness() const { return liveness_; }

  bool remote() const { return !host_.empty(); }
  // "broker HOST:PORT", for the lines that speak of the remexd.
  std::string label() const;

 private:
  std::string host_;  // empty: embedded
  std::uint16_t port_ = 0;
  std::string token_file_;
  std::string token_problem_;  // the token cannot be used: access denied
  bool verbose_ = false;
  caf::actor liveness_;
};

}  // namespace remex::cli
