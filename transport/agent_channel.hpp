// The agent backend over any raw channel: starts remex-agent with a command
// line, sends `config` and `exec` frames, and turns the agent's frames back
// into exec_channel/channel_listener calls (extra fds included).
#pragma once

#include <memory>
#include <string>

#include "protocol/frame.hpp"
#include "transport/recording_sink.hpp"
#include "transport/session_provider.hpp"

namespace remex::transport {

// agent_command_line: how to start the agent on the host (already quoted).
// recording: when given, every frame through the link is recorded there,
// both directions (config and exec included), the command's start and end
// too; a recording that fails is said once through listener->on_log and
// never fails the command.
std::shared_ptr<exec_channel> start_agent_exec(
    session_provider& provider, const std::string& agent_command_line,
    const protocol::agent_config& cfg, const command& cmd,
    std::shared_ptr<channel_listener> listener,
    std::shared_ptr<recording_sink> recording = nullptr);

}  // namespace remex::transport
