#include "actors/session.hpp"

#include <dirent.h>

#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <vector>

#include "actors/log.hpp"
#include "actors/wire_guard.hpp"
#include "protocol/frame.hpp"
#include "transport/agent_channel.hpp"
#include "transport/agent_host.hpp"
#include "transport/recording_sink.hpp"
#include "transport/shell_command.hpp"

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
  config::agent_settings agent;
  agent_shipping shipping;
  transport::agent_bundle bundle;  // what shipping places on the host
  // The checked placement, once ready; requests wait for it meanwhile.
  std::shared_ptr<const transport::agent_placement> placement;
  std::vector<waiting_open> waiting;
  std::vector<caf::typed_response_promise<file_session_ptr>> waiting_files;
  // The persistent agent (agent.persistent), started by the first request
  // and declared after provider: it goes first, closing its agent.
  std::shared_ptr<transport::agent_host> agent_host;
  std::string agent_host_program;  // the agent it runs
  static inline const char* name = "session";
};

using self_ptr = guarded_pointer<session_actor, session_state>;

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
  ctx.backend_type = req.backend == backend_kind::ssh ? "ssh" : "agent";
  ctx.agent_path = agent_path;
  ctx.secret_env = req.secret_env;
  // The target as the requester wrote it: [user@]host[:port] or an alias.
  if (auto at = req.target.rfind('@'); at != std::string::npos) {
    ctx.ssh_user = req.target.substr(0, at);
    ctx.ssh_addr = req.target.substr(at + 1);
  } else {
    ctx.ssh_addr = req.target;
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
  if (req.backend == backend_kind::ssh) {
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
  if (st.shipping) {
    if (!st.placement->ok) {
      listener->on_exit(st.placement->failure);
      return nullptr;
    }
    // Relative to the login directory, where sshd starts the command.
    program = st.placement->program;
  }
  auto rec = open_recording(req, program);
  protocol::agent_config config;
  config.env_keep = st.agent.env_keep;
  config.env_remove = st.agent.env_remove;
  // Recorded executions keep an agent of their own: the recording holds
  // one command's frames as the seed's protocol carries them.
  if (st.agent.persistent && !rec) {
    if (!st.agent_host || st.agent_host_program != program) {
      transport::agent_link_options opt;
      opt.max_executions = st.agent.max_per_agent;
      st.agent_host = transport::agent_host::make(
          *st.provider, transport::shell_quote(program), opt);
      st.agent_host_program = program;
    }
    return st.agent_host->open(config, cmd, std::move(listener));
  }
  return transport::start_agent_exec(*st.provider,
                                     transport::shell_quote(program), config,
                                     cmd, std::move(listener), std::move(rec));
}

// The agent for path queries and file operations, started like the one
// for an agent request (same program, same connection).
file_session_ptr files_now(self_ptr self) {
  auto& st = self->state;
  std::string program = st.agent.local_dir + "/remex-agent";
  if (st.shipping) {
    if (!st.placement->ok)
      return transport::failed_file_session(st.placement->failure);
    program = st.placement->program;
  }
  return transport::start_agent_files(*st.provider,
                                      transport::shell_quote(program));
}

void placer(caf::blocking_actor*, session_actor session,
            transport::agent_bundle bundle, agent_shipping shipping) {
  auto placed = std::make_shared<const transport::agent_placement>(
      shipping.place(bundle));
  caf::anon_send(session, placed_atom::value, placement_ptr{placed});
}

// The placement gate, one behaviour per state (like CAF's
// distributed_calculator): unchecked → checking → (placing →) ready.
// Agent requests wait in checking and placing; plain ones never wait.
session_actor::behavior_type ready(self_ptr self);
session_actor::behavior_type placing(self_ptr self);
session_actor::behavior_type checking(self_ptr self);
session_actor::behavior_type unchecked(self_ptr self);

caf::result<channel_ptr> open_request(self_ptr self, exec_request& req,
                                      listener_ptr& listener) {
  auto& st = self->state;
  if (req.backend == backend_kind::ssh || !st.shipping || st.placement)
    return open_now(self, req, std::move(listener));
  auto rp = self->make_response_promise<channel_ptr>();
  st.waiting.push_back({std::move(req), std::move(listener), rp});
  return rp;
}

caf::result<file_session_ptr> files_request(self_ptr self) {
  auto& st = self->state;
  if (!st.shipping || st.placement) return files_now(self);
  auto rp = self->make_response_promise<file_session_ptr>();
  st.waiting_files.push_back(rp);
  return rp;
}

void release_waiting(self_ptr self, placement_ptr placed) {
  auto& st = self->state;
  st.placement = std::move(placed);
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  auto waiting_files = std::move(st.waiting_files);
  st.waiting_files.clear();
  for (auto& w : waiting) {
    for (auto& line : st.placement->notices) w.listener->on_notice(line);
    w.promise.deliver(open_now(self, w.req, std::move(w.listener)));
  }
  // A file session has no listener of its own: its requester is this
  // process (remex fs, cp, paths), whose notice sink tells the user.
  if (waiting.empty())
    for (auto& line : st.placement->notices) transport::connect_notice(line);
  for (auto& w : waiting_files) w.deliver(files_now(self));
  if (st.placement->ok) {
    self->become(ready(self));
    return;
  }
  // A host that could not be reached now may be reachable for the next
  // request: a long-lived broker must not remember the failure.
  st.placement = nullptr;
  self->become(unchecked(self));
}

session_actor::behavior_type ready(self_ptr self) {
  return {
      [self](open_atom, exec_request& req, listener_ptr& listener) {
        return open_request(self, req, listener);
      },
      [self](files_atom) { return files_request(self); },
      [](checked_atom, placement_ptr&) {},
      [](placed_atom, placement_ptr&) {},
  };
}

session_actor::behavior_type placing(self_ptr self) {
  return {
      [self](open_atom, exec_request& req, listener_ptr& listener) {
        return open_request(self, req, listener);
      },
      [self](files_atom) { return files_request(self); },
      [](checked_atom, placement_ptr&) {},
      [self](placed_atom, placement_ptr& placed) {
        release_waiting(self, std::move(placed));
      },
  };
}

// The check runs over the host's own connection (the common case: the
// agent is there); only when it is missing does an upload run, on a
// detached actor's thread, since it blocks on a connection of its own.
session_actor::behavior_type checking(self_ptr self) {
  return {
      [self](open_atom, exec_request& req, listener_ptr& listener) {
        return open_request(self, req, listener);
      },
      [self](files_atom) { return files_request(self); },
      [self](checked_atom, placement_ptr& checked) {
        auto& st = self->state;
        if (!checked->missing) {
          release_waiting(self, std::move(checked));
          return;
        }
        self->spawn<caf::detached>(placer, session_actor{self}, st.bundle,
                                   st.shipping);
        self->become(placing(self));
      },
      [](placed_atom, placement_ptr&) {},
  };
}

// The first request that waits for the agent starts the check.
void check_when_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.waiting.empty() && st.waiting_files.empty()) return;
  session_actor me = self;
  st.shipping.check(st.bundle, [me](transport::agent_placement checked) {
    caf::anon_send(
        me, checked_atom::value,
        placement_ptr{std::make_shared<const transport::agent_placement>(
            std::move(checked))});
  });
  self->become(checking(self));
}

// Until the first agent request nothing is checked: plain requests and
// local sessions never pay for it.
session_actor::behavior_type unchecked(self_ptr self) {
  return {
      [self](open_atom, exec_request& req,
             listener_ptr& listener) -> caf::result<channel_ptr> {
        auto r = open_request(self, req, listener);
        check_when_waiting(self);
        return r;
      },
      [self](files_atom) -> caf::result<file_session_ptr> {
        auto r = files_request(self);
        check_when_waiting(self);
        return r;
      },
      [](checked_atom, placement_ptr&) {},
      [](placed_atom, placement_ptr&) {},
  };
}

session_actor::behavior_type session_impl(
    self_ptr self, std::shared_ptr<transport::session_provider> provider,
    config::agent_settings agent, agent_shipping shipping) {
  auto& st = self->state;
  st.provider = std::move(provider);
  st.agent = std::move(agent);
  st.shipping = std::move(shipping);
  if (st.shipping) st.bundle = local_bundle(st.agent.local_dir);
  return unchecked(self);
}

}  // namespace

session_actor spawn_session(
    caf::local_actor* parent,
    std::shared_ptr<transport::session_provider> provider,
    config::agent_settings agent, agent_shipping shipping) {
  return parent->spawn(session_impl, std::move(provider), std::move(agent),
                       std::move(shipping));
}

}  // namespace remex::actors
