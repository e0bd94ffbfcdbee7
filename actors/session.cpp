#include "actors/session.hpp"

#include <dirent.h>

#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <vector>

#include "actors/log.hpp"
#include "protocol/frame.hpp"
#include "transport/agent_channel.hpp"
#include "transport/recording_sink.hpp"
#include "transport/shell_command.hpp"
#include "transport/ssh/agent_transfer.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::actors {

namespace {

// An open request that waits for the agent to be placed on the host.
struct waiting_open {
  exec_request req;
  listener_ptr listener;
  caf::typed_response_promise<channel_ptr> promise;
};

struct session_state {
  std::shared_ptr<transport::session_provider> provider;
  agent_settings agent;
  bool ship_agent = false;
  transport::agent_bundle bundle;  // what ship_agent places on the host
  // The agent's placement on the host: unknown until the first agent
  // request, then pending while a detached actor uploads it.
  bool placing = false;
  std::shared_ptr<const transport::agent_placement> placement;
  std::vector<waiting_open> waiting;
  static inline const char* name = "session";
};

using self_ptr = session_actor::stateful_pointer<session_state>;

transport::command to_command(const exec_request& req) {
  transport::command cmd;
  cmd.path = req.path;
  cmd.argv = req.argv;
  cmd.env = req.env;
  cmd.cwd = req.cwd;
  cmd.fds = req.fds;
  return cmd;
}

// remex-agent first, then the shared libraries that travel beside it.
transport::agent_bundle local_bundle(const std::string& dir) {
  transport::agent_bundle b;
  b.files.push_back(dir + "/remex-agent");
  if (auto* d = ::opendir(dir.c_str())) {
    std::vector<std::string> libs;
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("lib", 0) == 0 && name.find(".so") != std::string::npos)
        libs.push_back(dir + "/" + name);
    }
    ::closedir(d);
    std::sort(libs.begin(), libs.end());
    b.files.insert(b.files.end(), libs.begin(), libs.end());
  }
  return b;
}

// The recording req asks for, or null (not asked, or the file cannot be
// created: logged, and the command runs unrecorded; the CLI has already
// created it once, so this is rare).
std::shared_ptr<transport::recording_sink> open_recording(
    const exec_request& req, const std::string& agent_path) {
  if (req.record.empty()) return nullptr;
  transport::recording_context ctx;
  ctx.backend_type = req.backend;
  ctx.agent_path = agent_path;
  transport::ssh_target t;
  if (!req.target.empty() && transport::parse_ssh_target(req.target, t)) {
    ctx.ssh_addr = t.port ? t.host + ":" + std::to_string(t.port) : t.host;
    ctx.ssh_user = t.user;
  }
  std::string error;
  auto sink = transport::recording_sink::create(req.record, ctx, error);
  if (!sink) log_actors()->error("{}", error);
  return sink;
}

channel_ptr open_now(self_ptr self, const exec_request& req,
                     listener_ptr listener) {
  auto& st = self->state;
  auto cmd = to_command(req);
  if (req.backend == "ssh") {
    auto open = [&](listener_ptr l) {
      return transport::open_sh_script(
          *st.provider, transport::ssh_command_script(cmd), std::move(l));
    };
    if (auto rec = open_recording(req, ""))
      return transport::open_recorded_plain(
          std::move(rec), {cmd.path, cmd.argv, cmd.env, cmd.cwd, cmd.fds},
          std::move(listener), open);
    return open(std::move(listener));
  }
  std::string program = st.agent.local_dir + "/remex-agent";
  if (st.ship_agent) {
    if (!st.placement->ok) {
      listener->on_exit(st.placement->failure);
      return nullptr;
    }
    // Relative to the login directory, where sshd starts the command.
    program = st.placement->program;
  }
  auto rec = open_recording(req, program);
  return transport::start_agent_exec(
      *st.provider, transport::shell_quote(program), protocol::agent_config{},
      cmd, std::move(listener), std::move(rec));
}

void placer(caf::blocking_actor*, session_actor session,
            std::shared_ptr<transport::session_provider> provider,
            transport::agent_bundle bundle) {
  auto placed = std::make_shared<const transport::agent_placement>(
      transport::ensure_agent(*provider, bundle));
  caf::anon_send(session, placed_atom::value, placement_ptr{placed});
}

// First a check over the host's own connection (the common case: the agent
// is there); only when it is missing, ensure_agent uploads it. That blocks
// on a connection of its own, so it runs on a detached actor's thread, never
// on the scheduler's. (Arguments, not captures: CAF 0.17 dereferences a null
// argument tuple for argument-less function actors.)
void place_agent(self_ptr self) {
  auto& st = self->state;
  st.placing = true;
  session_actor me = self;
  transport::check_agent(
      *st.provider, st.bundle, [me](transport::agent_placement checked) {
        caf::anon_send(
            me, placed_atom::value,
            placement_ptr{std::make_shared<const transport::agent_placement>(
                std::move(checked))});
      });
}

session_actor::behavior_type session_impl(
    self_ptr self, std::shared_ptr<transport::session_provider> provider,
    agent_settings agent, bool ship_agent) {
  self->state.provider = std::move(provider);
  self->state.agent = std::move(agent);
  self->state.ship_agent = ship_agent;
  if (ship_agent)
    self->state.bundle = local_bundle(self->state.agent.local_dir);
  return {
      [self](open_atom, exec_request& req,
             listener_ptr& listener) -> caf::result<channel_ptr> {
        auto& st = self->state;
        if (req.backend == "ssh" || !st.ship_agent || st.placement)
          return open_now(self, req, std::move(listener));
        auto rp = self->make_response_promise<channel_ptr>();
        st.waiting.push_back({std::move(req), std::move(listener), rp});
        if (!st.placing) place_agent(self);
        return rp;
      },
      [self](placed_atom, placement_ptr& placed) {
        auto& st = self->state;
        if (placed->missing) {
          self->spawn<caf::detached>(placer, session_actor{self}, st.provider,
                                     st.bundle);
          return;
        }
        st.placing = false;
        st.placement = std::move(placed);
        auto waiting = std::move(st.waiting);
        st.waiting.clear();
        for (auto& w : waiting)
          w.promise.deliver(open_now(self, w.req, std::move(w.listener)));
      },
  };
}

}  // namespace

session_actor spawn_session(
    caf::local_actor* parent,
    std::shared_ptr<transport::session_provider> provider, agent_settings agent,
    bool ship_agent) {
  return parent->spawn(session_impl, std::move(provider), std::move(agent),
                       ship_agent);
}

}  // namespace remex::actors
