#include "actors/session.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "protocol/frame.hpp"
#include "transport/agent_channel.hpp"
#include "transport/shell_command.hpp"

namespace remex::actors {

namespace {

struct session_state {
  std::shared_ptr<transport::session_provider> provider;
  agent_settings agent;
  static inline const char* name = "session";
};

transport::command to_command(const exec_request& req) {
  transport::command cmd;
  cmd.path = req.path;
  cmd.argv = req.argv;
  cmd.env = req.env;
  cmd.cwd = req.cwd;
  cmd.fds = req.fds;
  return cmd;
}

session_actor::behavior_type session_impl(
    session_actor::stateful_pointer<session_state> self,
    std::shared_ptr<transport::session_provider> provider,
    agent_settings agent) {
  self->state.provider = std::move(provider);
  self->state.agent = std::move(agent);
  return {
      [self](open_atom, const exec_request& req,
             listener_ptr& listener) -> channel_ptr {
        auto& st = self->state;
        auto cmd = to_command(req);
        if (req.backend == "ssh")
          return st.provider->open_exec(transport::ssh_command_line(cmd), {},
                                        std::move(listener));
        auto agent_cmd =
            transport::shell_quote(st.agent.local_dir + "/remex-agent");
        return transport::start_agent_exec(*st.provider, agent_cmd,
                                           protocol::agent_config{}, cmd,
                                           std::move(listener));
      },
  };
}

}  // namespace

session_actor spawn_session(
    caf::local_actor* parent,
    std::shared_ptr<transport::session_provider> provider,
    agent_settings agent) {
  return parent->spawn(session_impl, std::move(provider), std::move(agent));
}

}  // namespace remex::actors
