#include "tools/remex/fanout_command.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "actors/types.hpp"
#include "config/daemon_settings.hpp"
#include "config/host_groups.hpp"
#include "tools/remex/broker_client.hpp"
#include "tools/remex/broker_watch.hpp"
#include "tools/remex/fanout_options.hpp"
#include "tools/remex/fanout_output.hpp"
#include "tools/remex/signal_block.hpp"
#include "tools/remex/signal_relay.hpp"
#include "transport/exec_channel.hpp"

namespace remex::cli {

namespace {

using namespace remex::actors;
using clock_type = std::chrono::steady_clock;

struct running_host {
  clock_type::time_point started;
  host_sink_actor out, err;
  signal_relay relay;
};

struct driver_state {
  fanout_plan plan;
  broker_actor broker;
  caf::actor out_writer, err_writer;
  std::size_t next = 0;  // the next host to start
  std::size_t finished = 0;
  std::map<std::size_t, running_host> running;
  std::vector<host_result> results;  // by input order
  std::vector<bool> have;
  int interrupts = 0;
  std::int32_t last_signal = 0;  // the latest of them
  bool closing = false;
  bool stopped = false;  // start no more hosts (Ctrl-C, the broker is gone)
  caf::response_promise done;
};

using driver_ptr = caf::stateful_actor<driver_state>*;

// Writes text through writer. A request rather than a send, so that the
// writer's answer is expected; writes from here keep their order.
void write(driver_ptr self, const caf::actor& writer, std::string text) {
  self->request(writer, caf::infinite, std::move(text)).then([](bool) {});
}

std::string counts_text(const driver_state& st, bool summary) {
  std::size_t n[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < st.results.size(); ++i)
    if (st.have[i]) ++n[st.results[i].status];
  char buf[200];
  if (summary)
    std::snprintf(buf, sizeof buf,
                  "remex fanout: %zu hosts: %zu ok, %zu failed (exit != 0), "
                  "%zu unreachable, %zu timed out\n",
                  st.results.size(), n[host_result::ok], n[host_result::failed],
                  n[host_result::unreachable], n[host_result::timed_out]);
  else
    std::snprintf(buf, sizeof buf, "%zu/%zu done, %zu failed, %zu unreachable",
                  st.finished, st.results.size(),
                  n[host_result::failed] + n[host_result::timed_out],
                  n[host_result::unreachable]);
  return buf;
}

int exit_code_of(const driver_state& st) {
  if (st.interrupts >= 2) return 128 + st.last_signal;
  int code = 0;
  for (std::size_t i = 0; i < st.results.size(); ++i) {
    if (!st.have[i]) continue;
    auto& r = st.results[i];
    if (r.status == host_result::unreachable) return 255;
    code = std::max(code, r.code);
  }
  return code;
}

// Everything is written (the writers answer in order), then remex may end.
void finish(driver_ptr self) {
  auto& st = self->state;
  if (st.closing) return;
  st.closing = true;
  if (st.plan.mode == fanout_mode::collate) {
    std::vector<host_result> done;
    for (std::size_t i = 0; i < st.results.size(); ++i)
      if (st.have[i]) done.push_back(st.results[i]);
    write(self, st.out_writer, collate_text(done));
  }
  self->request(st.err_writer, caf::infinite, done_atom::value).then([](bool) {
  });
  auto code = exit_code_of(st);
  auto summary = counts_text(st, true);
  self->request(st.out_writer, caf::infinite, std::string{})
      .then([self, code, summary](bool) {
        self->request(self->state.err_writer, caf::infinite, summary)
            .then([self, code](bool) { self->state.done.deliver(code); });
      });
}

void launch_more(driver_ptr self);

void record(driver_ptr self, std::size_t i, host_result r) {
  auto& st = self->state;
  if (st.have[i]) return;
  st.running.erase(i);
  if (!r.error.empty() && st.plan.mode != fanout_mode::json)
    write(self, st.err_writer, r.host + ": remex: " + r.error + "\n");
  if (st.plan.mode == fanout_mode::json)
    write(self, st.out_writer, json_line(r));
  st.results[i] = std::move(r);
  st.have[i] = true;
  ++st.finished;
  if (st.plan.live_progress)
    self->send(st.err_writer, progress_atom::value, counts_text(st, false));
  launch_more(self);
}

// The outcome is in: the sinks hand over what they hold, then it counts.
void complete(driver_ptr self, std::size_t i, host_result r) {
  auto it = self->state.running.find(i);
  if (it == self->state.running.end()) return;
  r.duration_s =
      std::chrono::duration<double>(clock_type::now() - it->second.started)
          .count();
  auto shared = std::make_shared<host_result>(std::move(r));
  auto pending = std::make_shared<int>(2);
  auto one_done = [self, i, shared, pending] {
    if (--*pending == 0) record(self, i, std::move(*shared));
  };
  self->request(it->second.out, caf::infinite, done_atom::value)
      .then(
          [shared, one_done](std::string& s) {
            shared->out = std::move(s);
            one_done();
          },
          [one_done](caf::error&) { one_done(); });
  self->request(it->second.err, caf::infinite, done_atom::value)
      .then(
          [shared, one_done](std::string& s) {
            shared->err = std::move(s);
            one_done();
          },
          [one_done](caf::error&) { one_done(); });
}

host_result from_outcome(const std::string& host, const outcome& o,
                         std::uint64_t timeout_ms) {
  host_result r;
  r.host = host;
  r.code = o.exit_code();
  switch (o.kind) {
    case outcome::exited:
      r.exit_code = o.code;
      r.status = o.code == 0 ? host_result::ok : host_result::failed;
      break;
    case outcome::signaled:
      r.signal = o.signal;
      r.status = host_result::failed;
      break;
    case outcome::timed_out: {
      char buf[80];
      std::snprintf(buf, sizeof buf, "timed out after %.3g s%s",
                    timeout_ms / 1000.0,
                    o.cleanup_done ? "" : " (remote cleanup not confirmed)");
      r.error = buf;
      r.status = host_result::timed_out;
      r.code = 124;
      break;
    }
    case outcome::cancelled:
      r.error = "cancelled";
      r.status = host_result::failed;
      break;
    case outcome::failed: {
      r.error = o.message.empty() ? o.to_string() : o.message;
      // The host could not be reached or used; a command that is not
      // found, or an agent that failed, is the host's failure instead.
      using fk = transport::failure_kind;
      auto f = o.failure;
      bool unreachable = f == fk::connect || f == fk::auth ||
                         f == fk::host_key || f == fk::lost ||
                         f == fk::cluster || f == fk::none;
      r.status = unreachable ? host_result::unreachable : host_result::failed;
      r.code = 255;
      break;
    }
  }
  return r;
}

std::string signal_name(int signo) {
  switch (signo) {
    case SIGTERM:
      return "got SIGTERM";
    case SIGHUP:
      return "got SIGHUP";
    default:
      return "got signal " + std::to_string(signo);
  }
}

host_result not_run(const std::string& host, std::string why,
                    host_result::status_t status, int code) {
  host_result r;
  r.host = host;
  r.error = std::move(why);
  r.status = status;
  r.code = code;
  return r;
}

void launch(driver_ptr self, std::size_t i) {
  auto& st = self->state;
  const auto& host = st.plan.hosts[i];
  auto req = st.plan.base;
  req.target = host == "local" ? "" : host;
  auto& sys = self->system();
  running_host h;
  h.started = clock_type::now();
  if (st.plan.mode == fanout_mode::stream)
    h.out = spawn_line_sink(sys, host + ": ", st.out_writer);
  else
    h.out = spawn_collect_sink(sys);
  if (st.plan.mode == fanout_mode::json)
    h.err = spawn_collect_sink(sys);
  else
    h.err = spawn_line_sink(sys, host + ": ", st.err_writer);
  h.relay = spawn_signal_relay(sys);
  endpoints ends;
  ends.sinks[1] = sink_actor{h.out};
  ends.sinks[2] = sink_actor{h.err};
  // Without a source the remote stdin would stay open until the command
  // ends, and a command that reads it would hang.
  ends.sources[0] = spawn_empty_source(sys);
  ends.signals = h.relay.source;
  st.running.emplace(i, std::move(h));
  auto timeout_ms = req.timeout_ms;
  self->request(st.broker, caf::infinite, exec_atom::value, std::move(req),
                std::move(ends))
      .then(
          [self, i, timeout_ms](outcome& o) {
            complete(self, i,
                     from_outcome(self->state.plan.hosts[i], o, timeout_ms));
          },
          [self, i](caf::error& e) {
            complete(
                self, i,
                not_run(self->state.plan.hosts[i], self->system().render(e),
                        host_result::unreachable, 255));
          });
}

void launch_more(driver_ptr self) {
  auto& st = self->state;
  while (!st.stopped && st.next < st.plan.hosts.size() &&
         st.running.size() < st.plan.width)
    launch(self, st.next++);
  if (st.finished == st.plan.hosts.size()) finish(self);
}

// Hosts not started yet never will be: each is reported as `why`.
void skip_queued(driver_ptr self, const std::string& why,
                 host_result::status_t status, int code) {
  auto& st = self->state;
  st.stopped = true;
  while (st.next < st.plan.hosts.size()) {
    auto i = st.next++;
    record(self, i, not_run(st.plan.hosts[i], why, status, code));
  }
}

caf::behavior driver(driver_ptr self, fanout_plan plan, broker_actor broker,
                     caf::actor liveness, caf::actor out_writer,
                     caf::actor err_writer) {
  auto& st = self->state;
  st.results.resize(plan.hosts.size());
  st.have.resize(plan.hosts.size());
  st.plan = std::move(plan);
  st.broker = broker;
  st.out_writer = std::move(out_writer);
  st.err_writer = std::move(err_writer);
  // A remexd that dies never answers the requests it holds: its death ends
  // them here.
  on_broker_lost(self, liveness, [self](const caf::error&) {
    auto& st = self->state;
    std::vector<std::size_t> lost;
    for (auto& kv : st.running) lost.push_back(kv.first);
    skip_queued(self, "broker lost before it ran", host_result::unreachable,
                255);
    for (auto i : lost)
      complete(self, i,
               not_run(st.plan.hosts[i],
                       "connection to the broker lost; the command's fate is "
                       "unknown",
                       host_result::unreachable, 255));
  });
  return {
      [self](open_atom) {
        self->state.done = self->make_response_promise();
        launch_more(self);
        return self->state.done;
      },
      [self](signal_atom, std::int32_t signo) {
        auto& st = self->state;
        ++st.interrupts;
        st.last_signal = signo;
        // First Ctrl-C (or SIGTERM, SIGHUP: a job control system or a
        // closed terminal): the commands get it, the hosts not started yet
        // never start. Second: kill everything, and end soon whatever
        // comes back.
        std::int32_t send = st.interrupts == 1 ? signo : SIGKILL;
        for (auto& [i, h] : st.running)
          caf::anon_send(h.relay.input, signal_atom::value, send);
        if (st.interrupts == 1) {
          auto why = std::string{"not started: "} +
                     (signo == SIGINT ? "interrupted" : signal_name(signo));
          skip_queued(self, why, host_result::failed, 128 + signo);
        } else if (st.interrupts == 2) {
          self->delayed_send(self, std::chrono::seconds(2),
                             deadline_atom::value);
        }
      },
      [self](deadline_atom) { finish(self); },
  };
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "remex: %s (see 'remex fanout --help')\n", why.c_str());
  return 255;
}

// A selection that does not expand: an unknown group is said with where the
// groups come from (where), anything else as a usage error.
int selection_error(const std::string& why, const std::string& where) {
  if (why.rfind("unknown group", 0) != 0) return usage_error(why);
  std::fprintf(stderr, "remex: fanout: %s (%s)\n", why.c_str(), where.c_str());
  return 255;
}

// A path as the user knows it: ~/… under the home directory.
std::string shown_path(const std::string& path) {
  auto home = config::home_directory();
  if (home.size() > 1 && path.rfind(home + "/", 0) == 0)
    return "~" + path.substr(home.size());
  return path;
}

// The embedded broker's groups: from file (empty: the default hosts file).
// A missing file is no groups; where says which file, for an unknown group.
std::string load_hosts_file(const std::string& file,
                            config::host_groups& groups, std::string& where) {
  auto path = file.empty() ? config::default_hosts_file() : file;
  bool found = false;
  std::string error;
  auto read = config::read_hosts_file(path, found, error);
  if (!read) return error;
  groups = std::move(*read);
  where = (found ? "not in " : "no ") + shown_path(path);
  return {};
}

// With --broker: the remexd's groups, then the hosts. -1 when the hosts are
// in plan, else the exit code (the line said).
int resolve_remote_hosts(caf::actor_system& sys, const broker_actor& broker,
                         const std::string& label, fanout_plan& plan) {
  config::host_groups groups;
  if (plan.uses_groups) {
    caf::scoped_actor self{sys};
    std::string error;
    self->request(broker, std::chrono::seconds(30), groups_atom::value)
        .receive(
            [&](std::map<std::string, std::string>& g) {
              groups = std::move(g);
            },
            [&](const caf::error& e) { error = sys.render(e); });
    if (!error.empty()) {
      std::fprintf(stderr,
                   "remex: fanout: cannot get the host groups of %s: %s\n",
                   label.c_str(), error.c_str());
      return 255;
    }
  }
  if (auto why = resolve_hosts(plan, groups); !why.empty())
    return selection_error(why, "not in the [groups] of " + label);
  return -1;
}

}  // namespace

int fanout_command(const std::vector<std::string>& args) {
  fanout_plan plan;
  run_options o;
  if (auto why = parse_fanout_options(args, plan, o); !why.empty())
    return usage_error(why);
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  ::signal(SIGPIPE, SIG_IGN);
  auto sigs = block_for_sigwait({SIGINT, SIGTERM, SIGHUP});
  plan.live_progress = ::isatty(STDERR_FILENO) == 1;

  caf::actor_system_config cfg;
  broker_client client;
  if (!client.ready(o, cfg)) return 255;
  // Groups come from where the broker is configured: the hosts file for
  // the embedded one (read here, before anything starts), remexd's config
  // for a remexd (asked once connected, before any host is).
  if (client.remote() && !plan.hosts_file.empty())
    return usage_error(
        "--hosts-file is for the embedded broker; with --broker the groups "
        "are remexd's [groups]");
  if (!client.remote()) {
    config::host_groups groups;
    std::string where;
    if (plan.uses_groups)
      if (auto why = load_hosts_file(plan.hosts_file, groups, where);
          !why.empty()) {
        std::fprintf(stderr, "remex: fanout: %s\n", why.c_str());
        return 255;
      }
    if (auto why = resolve_hosts(plan, groups); !why.empty())
      return selection_error(why, where);
  }
  caf::actor_system sys{cfg};
  auto broker = client.open_or_exit(sys);
  if (client.remote()) {
    auto why = resolve_remote_hosts(sys, broker, client.label(), plan);
    if (why >= 0) {
      std::fflush(stderr);
      std::_Exit(why);
    }
  }
  auto out_writer = spawn_fd_writer(sys, STDOUT_FILENO, false);
  auto err_writer = spawn_fd_writer(sys, STDERR_FILENO, plan.live_progress);
  // Connection notices (a host key recorded) come from connecting threads:
  // through the writer, they never cut a host's line or the live line.
  transport::set_connect_notice_sink(
      [quiet = o.log_level == "error", err_writer](const std::string& line) {
        if (!quiet) caf::anon_send(err_writer, line + "\n");
      });
  auto d = sys.spawn(driver, std::move(plan), broker, client.liveness(),
                     out_writer, err_writer);
  // Detached for good: the process ends with _Exit below.
  std::thread([sigs, d] {
    for (;;) {
      int signo = 0;
      if (sigwait(&sigs, &signo) == 0)
        caf::anon_send(d, signal_atom::value, std::int32_t{signo});
    }
  }).detach();
  int code = 255;
  caf::scoped_actor self{sys};
  self->request(d, caf::infinite, open_atom::value)
      .receive([&](int c) { code = c; },
               [&](const caf::error& e) {
                 std::fprintf(stderr, "remex: %s\n", sys.render(e).c_str());
               });
  // Sinks and bridges may still be in the system: end without joining.
  std::fflush(stdout);
  std::fflush(stderr);
  spdlog::shutdown();
  std::_Exit(code);
}

}  // namespace remex::cli
