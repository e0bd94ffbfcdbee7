// The agent's file session over any raw channel: starts remex-agent like
// start_agent_exec does, but for path queries and file operations instead of
// a command. Requests go out at once (many may be in flight: the agent
// answers them in order, each by its id); answers come back on the raw
// channel's I/O thread. When the agent dies or the link drops, every request
// still waiting, and every later one, is answered with that failure.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/frame.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

// One answer: the agent's response, or why there is none (the session
// failed: failure says how, message says what and where; resp is empty).
struct file_answer {
  protocol::file_op_response resp;
  failure_kind failure = failure_kind::none;
  std::string message;

  bool lost() const { return failure != failure_kind::none; }
};

// The enumeration of a path query, or why there is none.
struct paths_answer {
  protocol::path_info info;
  failure_kind failure = failure_kind::none;
  std::string message;
};

// Thread-safe; no method blocks. Callbacks run on the transport's I/O thread
// (or at once on the caller's, when the session has already failed) and
// must not block.
class file_session {
 public:
  virtual ~file_session() = default;
  // Sends req (its id is assigned here); done is called exactly once.
  virtual void request(protocol::file_op_request req,
                       std::function<void(file_answer)> done) = 0;
  // Asks for the executables in dirs (empty: the agent's $PATH). The agent
  // answers and exits: this is the session's last request.
  virtual void query_paths(std::vector<std::string> dirs,
                           std::function<void(paths_answer)> done) = 0;
  // Agent log frames and its stderr, as slog level and text (optional).
  virtual void on_log(std::function<void(int, std::string)> sink) = 0;
  // Ends the session: the agent's stdin closes and it exits (closing the
  // files it holds); requests still waiting are answered as lost.
  virtual void close() = 0;
};

// agent_command_line: how to start the agent on the host (already quoted).
std::shared_ptr<file_session> start_agent_files(
    session_provider& provider, const std::string& agent_command_line);

// A session that failed before it started (the agent could not be placed):
// every request is answered with status's failure.
std::shared_ptr<file_session> failed_file_session(exit_status status);

}  // namespace remex::transport
