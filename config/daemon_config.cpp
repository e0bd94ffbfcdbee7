#include "config/daemon_config.hpp"

#include <algorithm>
#include <caf/expected.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "config/daemon_keys.hpp"
#include "config/host_groups.hpp"
#include "config/ini_file.hpp"

namespace remex::config {

const char* const daemon_usage =
    R"(Usage: remexd [OPTIONS]
The remex broker daemon: one cluster node, serving remex clients and peers.

      --config FILE          settings file (CAF INI; see remexd.conf.example)
      --listen HOST:PORT     default 127.0.0.1:7411 ([::1]:PORT for IPv6);
                             off loopback only with the three --tls-* files
      --name NAME            this node's name; default: the host name
      --token-file FILE      default $XDG_STATE_HOME/remex/token, else
                             ~/.local/state/remex/token
      --log-file FILE        default: stderr
  -v, --log-level LEVEL      trace, debug, info (default), warn, error,
                             critical, off
      --record-dir DIR       record every execution there (0600 files)
      --secret-env NAME      env names (globs) whose values are secrets:
                             "<redacted>" in recordings (repeat it; added to
                             *TOKEN* *SECRET* *PASSWORD* *PASSWD* *_KEY
                             *CREDENTIAL*)
      --peer HOST:PORT       a node to join (repeat it; the order is the
                             order routing prefers them in)
      --serves PATTERN       targets this node runs itself, a glob over the
                             target as the client wrote it, or @GROUP (repeat
                             it; default: *); others go to a peer that serves
                             them
      --tls-cert FILE --tls-key FILE --tls-ca FILE
                             mutual TLS with a CA instead of the token (see
                             remexd.conf.example)
      --check                check the settings, say so, exit 0 (1 if wrong)
  -h, --help                 this text

Every key of the file is also a flag, --group.key=VALUE or --group.key VALUE,
and flags override the file:
      --ssh.config-file=FILE       --ssh.known-hosts=FILE
      --ssh.identities=FILE        repeat it, or give a list: '["a", "b"]'
      --ssh.accept-new-host-key    or =true / =false
      --ssh.connect-timeout=10s    --ssh.keepalive=5s
      --ssh.max-connections=16     per host
      --limits.max-executions=256  --limits.credit-window=1048576 (bytes)
      --limits.idle-timeout=5min   --limits.shutdown-grace=10s
      --agent.env-keep=PATTERN     --agent.env-remove=PATTERN (lists, as above)
      --groups.NAME=HOSTS          a host group, e.g. --groups.web='web[01-20]'
Durations: 100ms, 30s, 5min, 1h. Text needs no quotes on the command line.
)";

namespace {

struct flag {
  std::string option;  // as typed, without its value: "--limits.idle-timeout"
  const daemon_key* key;  // nullptr: a group, --groups.NAME
  std::string text;
  bool bare;  // no value given (a toggle)
};

struct command_line {
  std::string config;
  std::vector<flag> flags;
  bool check = false;
  bool help = false;
};

std::string cli_error(const std::string& what) {
  return "remexd: command line: " + what;
}

bool parse_command_line(const std::vector<std::string>& args, command_line& out,
                        std::string& error) {
  // --help wins over anything wrong next to it.
  if (std::any_of(args.begin(), args.end(),
                  [](auto& a) { return a == "--help" || a == "-h"; })) {
    out.help = true;
    return true;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--check") {
      out.check = true;
      continue;
    }
    std::string option, name, text;
    bool has_value = false;
    if (arg == "-v") {
      option = arg;
      name = "log-level";
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      auto eq = arg.find('=');
      option = arg.substr(0, eq);
      name = option.substr(2);
      if (eq != std::string::npos) {
        text = arg.substr(eq + 1);
        has_value = true;
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = cli_error("unknown option '" + arg + "' (see remexd --help)");
      return false;
    } else {
      error = cli_error("unexpected argument '" + arg + "'");
      return false;
    }
    const daemon_key* key = nullptr;
    bool group = name.rfind("groups.", 0) == 0;
    if (name != "config" && !group) {
      key = find_daemon_key(name);
      if (!key) {
        error =
            cli_error("unknown option '" + option + "' (see remexd --help)");
        return false;
      }
    }
    bool bare = false;
    if (!has_value) {
      if (key && key->kind == flag_kind::toggle) {
        bare = true;
      } else if (i + 1 < args.size()) {
        text = args[++i];
      } else {
        error = cli_error(option + ": missing value");
        return false;
      }
    }
    if (group) {
      out.flags.push_back({option, nullptr, text, false});
      continue;
    }
    if (!key) {
      if (text.empty()) {
        error = cli_error("--config: missing value");
        return false;
      }
      if (!out.config.empty()) {
        error = cli_error("--config: given twice");
        return false;
      }
      out.config = text;
      continue;
    }
    out.flags.push_back({option, key, text, bare});
  }
  return true;
}

caf::config_value flag_value(const flag& f) {
  switch (f.key->kind) {
    case flag_kind::text:
      return caf::config_value{f.text};
    case flag_kind::toggle:
      if (f.bare || f.text == "true") return caf::config_value{true};
      if (f.text == "false") return caf::config_value{false};
      return caf::config_value{f.text};
    default:
      // What CAF cannot read stays text, which the key then refuses in the
      // words it uses for the file ("expected ..., got "soon"").
      if (auto parsed = caf::config_value::parse(f.text))
        return std::move(*parsed);
      return caf::config_value{f.text};
  }
}

bool apply_flags(const std::vector<flag>& flags, daemon_settings& s,
                 std::string& error, std::string& listen_where) {
  // A list flag's elements gather over all its occurrences before the key
  // sees them; the first occurrence replaces the file's list.
  std::map<const daemon_key*, std::pair<std::string, caf::config_value::list>>
      lists;
  std::vector<const daemon_key*> list_order;
  auto store = [&](const daemon_key* key, const std::string& option,
                   const caf::config_value& v) {
    auto problem = key->store(s, v, true);
    if (!problem.empty()) error = cli_error(option + ": " + problem);
    return problem.empty();
  };
  bool groups_given = false;
  for (auto& f : flags) {
    if (!f.key) {
      auto what = add_host_group(s.groups, f.option.substr(9),
                                 caf::config_value{f.text});
      if (!what.empty()) {
        error = cli_error(f.option + ": " + what);
        return false;
      }
      groups_given = true;
      continue;
    }
    if (f.key->name == "listen") listen_where = cli_error(f.option);
    if (f.key->kind != flag_kind::list) {
      if (!store(f.key, f.option, flag_value(f))) return false;
      continue;
    }
    if (!lists.count(f.key)) list_order.push_back(f.key);
    auto& [option, elements] = lists[f.key];
    option = f.option;
    // "[::1]:7411" is one peer, not a list: a list's texts are quoted.
    bool is_list =
        !f.text.empty() && f.text.front() == '[' &&
        (f.key->name != "peer" || f.text.find('"') != std::string::npos);
    if (!is_list) {
      elements.push_back(caf::config_value{f.text});
      continue;
    }
    auto whole = flag_value(f);
    auto list = caf::get_if<caf::config_value::list>(&whole);
    if (!list)
      return store(f.key, f.option, whole);  // refused, in the key's words
    elements = std::move(*list);
  }
  for (auto key : list_order) {
    auto& [option, elements] = lists[key];
    if (!store(key, option, caf::config_value{elements})) return false;
  }
  if (auto bad = groups_given ? check_host_groups(s.groups) : std::nullopt) {
    error = cli_error("--groups." + bad->first + ": " + bad->second);
    return false;
  }
  return true;
}

bool apply_file(const std::string& path, daemon_settings& s, std::string& error,
                std::string& listen_where) {
  auto fail = [&](int line, const std::string& what) {
    error = "remexd: " + path + (line > 0 ? ":" + std::to_string(line) : "") +
            ": " + what;
    return false;
  };
  std::string text;
  if (int err = read_text_file(path, text))
    return fail(0, std::string{"cannot read: "} + std::strerror(err));
  ini_problem problem;
  auto contents = parse_ini(text, problem);
  if (!contents) return fail(problem.line, problem.what);
  // The first thing wrong, by line: an unknown group is reported as such,
  // not as unknown keys below it.
  auto group =
      std::find_if(contents->groups.begin(), contents->groups.end(),
                   [](const ini_group& g) { return !is_daemon_group(g.name); });
  auto report_group = [&](int before_line) {
    return group != contents->groups.end() && group->line <= before_line;
  };
  auto unknown_group = [&] {
    return fail(group->line, "unknown group [" + group->name + "]");
  };
  // "listen" and "remexd.listen" are one key.
  std::map<const daemon_key*, int> first_line;
  // [groups] takes any name; what the groups refer to is checked once all
  // are in, and said of the line that names it.
  std::vector<std::string> group_order;
  std::map<std::string, int> group_lines;
  for (auto& entry : contents->entries) {
    if (report_group(entry.line)) return unknown_group();
    if (entry.key.rfind("groups.", 0) == 0) {
      auto name = entry.key.substr(7);
      if (auto what = add_host_group(s.groups, name, entry.value);
          !what.empty())
        return fail(entry.line, entry.key + ": " + what);
      group_order.push_back(name);
      group_lines[name] = entry.line;
      continue;
    }
    auto key = find_daemon_key(entry.key);
    if (!key) return fail(entry.line, "unknown key '" + entry.key + "'");
    auto [seen, fresh] = first_line.emplace(key, entry.line);
    if (!fresh)
      return fail(entry.line, entry.key + ": given twice (first on line " +
                                  std::to_string(seen->second) + ")");
    if (auto what = key->store(s, entry.value, false); !what.empty())
      return fail(entry.line, entry.key + ": " + what);
    if (key->name == "listen")
      listen_where = "remexd: " + path + ":" + std::to_string(entry.line) +
                     ": " + entry.key;
  }
  if (group != contents->groups.end()) return unknown_group();
  if (auto bad = check_host_groups(s.groups, group_order))
    return fail(group_lines[bad->first],
                "groups." + bad->first + ": " + bad->second);
  return true;
}

// What only the keys together can say: a port off loopback has nothing but
// TLS to keep strangers out, and TLS needs all three files.
std::string cluster_problem(const daemon_settings& s,
                            const std::string& listen_where) {
  int given = !s.tls_cert.empty() + !s.tls_key.empty() + !s.tls_ca.empty();
  if (given != 0 && given != 3)
    return "remexd: tls-cert, tls-key and tls-ca go together: " +
           std::string{s.tls_cert.empty()  ? "tls-cert"
                       : s.tls_key.empty() ? "tls-key"
                                           : "tls-ca"} +
           " is missing";
  std::string unknown;
  expand_group_patterns(s.serves, s.groups, unknown);
  if (!unknown.empty()) return "remexd: serves: " + unknown;
  if (given == 0 && !is_loopback(s.listen_host)) {
    auto h = s.listen_host.find(':') != std::string::npos
                 ? "[" + s.listen_host + "]"
                 : s.listen_host;
    return listen_where + ": " +
           in_quotes(h + ":" + std::to_string(s.listen_port)) +
           " is not on loopback: off loopback remexd needs --tls-cert, "
           "--tls-key and --tls-ca (mutual TLS with a CA)";
  }
  return {};
}

}  // namespace

daemon_config read_daemon_settings(const std::vector<std::string>& args) {
  daemon_config result;
  command_line cl;
  if (!parse_command_line(args, cl, result.error)) return result;
  if (cl.help) {
    result.help = true;
    return result;
  }
  result.check_only = cl.check;
  daemon_settings s;
  std::string listen_where;
  if (!cl.config.empty()) {
    // Absolute, so that a reload finds the same file whatever the daemon's
    // working directory has become.
    std::error_code ec;
    auto absolute = std::filesystem::absolute(cl.config, ec);
    result.config_file = ec ? cl.config : absolute.string();
    if (!apply_file(cl.config, s, result.error, listen_where)) return result;
  }
  if (!apply_flags(cl.flags, s, result.error, listen_where)) return result;
  if (auto why = cluster_problem(s, listen_where); !why.empty()) {
    result.error = why;
    return result;
  }
  result.settings = std::move(s);
  return result;
}

}  // namespace remex::config
