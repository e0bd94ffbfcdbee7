#include "tools/remex/fanout_options.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "config/host_list.hpp"
#include "tools/remex/fanout_command.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::cli {

const char* fanout_usage =
    "usage: remex fanout (-H HOSTS | -g GROUP)... [OPTIONS] [--] COMMAND "
    "[ARG...]\n"
    "  -H, -w HOSTS               hosts, repeatable: a comma list with pdsh\n"
    "                             ranges (web[01-20],db[1-3,7]); 'local' is\n"
    "                             this machine; @NAME is group NAME's hosts\n"
    "  -g GROUP[,GROUP...]        the hosts of these groups, repeatable: the\n"
    "                             [groups] of the --broker's remexd config,\n"
    "                             else of the hosts file\n"
    "  -x HOSTS                   leave these out (same syntax, @NAME too)\n"
    "      --hosts-file FILE      the groups of the embedded broker: FILE, "
    "else\n"
    "                             $REMEX_HOSTS_FILE, else\n"
    "                             ~/.config/remex/hosts.ini ($XDG_CONFIG_HOME"
    "),\n"
    "                             a [groups] section: web = \"web[01-20]\"\n"
    "  -f WIDTH                   at most WIDTH hosts at once (default 64)\n"
    "  -t SECONDS                 per host: then kill it, counted as timed "
    "out\n"
    "      --stream               (default) lines as they come, as 'HOST: "
    "line',\n"
    "                             stdout to stdout, stderr to stderr\n"
    "      --collate              at the end, hosts with the same stdout and "
    "exit\n"
    "                             code grouped under one header; stderr "
    "comes as\n"
    "                             'HOST: line' on stderr as it arrives\n"
    "      --json                 one JSON object per host per line, in "
    "completion\n"
    "                             order: host, exit_code, signal, stdout, "
    "stderr,\n"
    "                             duration_s, error\n"
    "  -b, -e, -C, -i, -F, --known-hosts, --accept-new-host-key, -v,\n"
    "  --broker, --token-file     as in 'remex run'\n"
    "The command gets no stdin. Ctrl-C sends SIGINT to every running command "
    "and\n"
    "starts no more hosts; a second Ctrl-C kills them all and exits 130.\n"
    "SIGTERM and SIGHUP alike: the command gets the signal, a second one "
    "kills\n"
    "them all (exit 128+N).\n"
    "On a terminal, stderr shows a live 'done/total' line; at the end, "
    "always:\n"
    "  remex fanout: N hosts: A ok, B failed (exit != 0), C unreachable, D "
    "timed out\n"
    "Exit: 0 when all hosts exit 0, 255 when any was unreachable or failed in\n"
    "remex, else the largest exit code (signal N: 128+N, timed out: 124).\n";

std::string parse_fanout_options(const std::vector<std::string>& args,
                                 fanout_plan& plan, run_options& o) {
  bool any_hosts = false;
  std::string error;
  std::size_t i = 0;
  auto value_of = [&](const std::string& a, std::string& v) -> bool {
    if (a.size() > 2 && a[1] != '-') {
      v = a.substr(2);
      return true;
    }
    auto eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      return true;
    }
    if (i + 1 >= args.size()) return false;
    v = args[++i];
    return true;
  };
  auto is = [](const std::string& a, const char* s, const char* l) {
    auto n = std::string(l).size();
    return a.rfind(s, 0) == 0 ||
           (a.rfind(l, 0) == 0 && (a.size() == n || a[n] == '='));
  };
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    if (a == "--help" || a == "-h") {
      // Also after --broker given before "fanout", which main passes first.
      std::fputs(fanout_usage, stdout);
      std::exit(0);
    }
    std::string v;
    if (is(a, "-H", "--host") || is(a, "-w", "--hosts") ||
        is(a, "-x", "--exclude")) {
      if (!value_of(a, v)) return "option '" + a + "' needs a value";
      if (auto why = config::check_host_list(v); !why.empty())
        return "bad host list '" + v + "': " + why;
      bool exclude = a.rfind("-x", 0) == 0 || a.rfind("--exclude", 0) == 0;
      any_hosts = any_hosts || !exclude;
      plan.uses_groups = plan.uses_groups || v.front() == '@' ||
                         v.find(",@") != std::string::npos;
      plan.selection.push_back({v, exclude});
    } else if (is(a, "-g", "--group")) {
      if (!value_of(a, v)) return "option '" + a + "' needs a value";
      // pdsh's -g takes a comma list of groups; "@web" is fine too.
      std::string list;
      for (auto& name : config::split_host_list(v)) {
        auto bare = name.empty() || name.front() != '@' ? name : name.substr(1);
        if (!config::is_group_name(bare))
          return "bad group name '" + name + "' in -g " + v;
        list += (list.empty() ? "@" : ",@") + bare;
      }
      any_hosts = true;
      plan.uses_groups = true;
      plan.selection.push_back({list, false});
    } else if (a == "--hosts-file" || a.rfind("--hosts-file=", 0) == 0) {
      if (!value_of(a, v) || v.empty())
        return "option '" + a + "' needs a value";
      plan.hosts_file = v;
    } else if (is(a, "-f", "--fanout")) {
      if (!value_of(a, v)) return "option '" + a + "' needs a value";
      char* end = nullptr;
      auto n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end || n == 0 || n > 100000)
        return "-f wants a number of hosts from 1 to 100000, got '" + v + "'";
      plan.width = n;
    } else if (a == "--stream") {
      plan.mode = fanout_mode::stream;
    } else if (a == "--collate") {
      plan.mode = fanout_mode::collate;
    } else if (a == "--json") {
      plan.mode = fanout_mode::json;
    } else {
      auto r = parse_connection_option(args, i, o, error, false);
      if (r == 0) r = parse_exec_option(args, i, o, error);
      if (r < 0) return error;
      if (r == 0) return "unknown option '" + a + "'";
    }
  }
  if (i >= args.size()) return "no command given";
  o.request.argv.assign(args.begin() + static_cast<long>(i), args.end());
  o.request.path = o.request.argv.front();
  if (!any_hosts) return "no hosts given (-H HOSTS or -g GROUP)";
  plan.base = o.request;
  return {};
}

std::string resolve_hosts(fanout_plan& plan,
                          const config::host_groups& groups) {
  std::vector<std::string> hosts;
  std::set<std::string> excluded;
  for (auto& term : plan.selection) {
    std::string error;
    auto list = config::expand_host_list(term.list, groups, error);
    if (!error.empty()) return error;
    if (term.exclude)
      excluded.insert(list.begin(), list.end());
    else
      hosts.insert(hosts.end(), list.begin(), list.end());
  }
  plan.hosts.clear();
  std::set<std::string> seen;
  for (auto& h : hosts)
    if (!excluded.count(h) && seen.insert(h).second) plan.hosts.push_back(h);
  if (plan.hosts.empty()) return "no hosts left after -x";
  for (auto& h : plan.hosts) {
    if (h == "local") continue;
    transport::ssh_target parsed;
    if (auto why = transport::check_ssh_target(h, parsed); !why.empty())
      return "invalid target '" + h + "': " + why;
  }
  return {};
}

}  // namespace remex::cli
