#include "tools/remex/run_options.hpp"

#include <algorithm>
#include <cstdlib>

#include "transport/ssh/ssh_target.hpp"

namespace remex::cli {

const char* run_usage =
    "usage: remex run [OPTIONS] [--] COMMAND [ARG...]\n"
    "  -H, --host TARGET          ssh_config alias or [user@]host[:port];\n"
    "                             without it: this machine (local backend)\n"
    "  -b, --backend agent|ssh    default agent\n"
    "  -e, --env KEY=VALUE        repeatable\n"
    "      --secret-env NAME      NAME's value (a glob: all names it matches)\n"
    "                             is a secret: never recorded or logged;\n"
    "                             *TOKEN* *SECRET* *PASSWORD* *PASSWD* *_KEY\n"
    "                             *CREDENTIAL* always are\n"
    "  -C, --cwd DIR\n"
    "      --pass-fd N            bridge fd N (N >= 3) to the remote fd N\n"
    "  -n                         stdin from /dev/null\n"
    "  -t, --timeout SECONDS      then kill the remote process group, exit "
    "124\n"
    "  -i, --identity FILE        -F, --ssh-config FILE   --known-hosts FILE\n"
    "      --accept-new-host-key  record an unknown host key instead of "
    "refusing\n"
    "      --record FILE          record the session into FILE (mode 0600) "
    "for\n"
    "                             'remex replay'\n"
    "  -v, --log-level LEVEL      trace, debug, info, warn (default), error\n"
    "      --broker HOST[:PORT]   run it through a remexd (default port 7411;\n"
    "                             also $REMEX_BROKER); connection options "
    "then\n"
    "                             name files on the broker's machine\n"
    "      --token-file FILE      the broker's token (also $REMEX_TOKEN_FILE;\n"
    "                             default ~/.local/state/remex/token)\n";

namespace {

struct option_spec {
  const char* short_name;  // "-H" or nullptr
  const char* long_name;   // "--host"
  bool takes_value;
};

const option_spec specs[] = {
    {"-H", "--host", true},
    {"-b", "--backend", true},
    {"-e", "--env", true},
    {nullptr, "--secret-env", true},
    {"-C", "--cwd", true},
    {nullptr, "--pass-fd", true},
    {"-n", nullptr, false},
    {"-t", "--timeout", true},
    {"-i", "--identity", true},
    {"-F", "--ssh-config", true},
    {nullptr, "--known-hosts", true},
    {nullptr, "--accept-new-host-key", false},
    {"-v", "--log-level", true},
    {nullptr, "--record", true},
    {nullptr, "--broker", true},
    {nullptr, "--token-file", true},
};

bool parse_uint(const std::string& s, unsigned long long& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::strtoull(s.c_str(), nullptr, 10);
  return true;
}

// Applies one option; returns an error line, or "" when fine.
std::string apply(run_options& o, const std::string& name,
                  const std::string& value) {
  auto& r = o.request;
  if (name == "--host") {
    // Only the absence of -H means this machine: an empty target is a
    // mistake (an unset variable), never "local".
    if (value.empty())
      return "empty target for -H (want [user@]host[:port] or an ssh_config "
             "alias)";
    transport::ssh_target parsed;
    if (auto why = transport::check_ssh_target(value, parsed); !why.empty())
      return "invalid target '" + value + "' for -H: " + why;
    r.target = value;
  } else if (name == "--backend") {
    if (value != "agent" && value != "ssh")
      return "unknown backend '" + value + "' (want agent or ssh)";
    r.backend = value == "ssh" ? actors::backend_kind::ssh
                               : actors::backend_kind::agent;
  } else if (name == "--env") {
    if (value.find('=') == std::string::npos || value[0] == '=')
      return "--env wants KEY=VALUE, got '" + value + "'";
    r.env.push_back(value);
  } else if (name == "--secret-env") {
    if (value.empty() || value.find('=') != std::string::npos)
      return "--secret-env wants a variable name (or a glob), got '" + value +
             "'";
    r.secret_env.push_back(value);
  } else if (name == "--cwd") {
    r.cwd = value;
  } else if (name == "--pass-fd") {
    unsigned long long n = 0;
    if (!parse_uint(value, n) || n < 3 || n > 1023)
      return "--pass-fd wants a number from 3 to 1023, got '" + value + "'";
    auto fd = static_cast<int>(n);
    if (std::find(o.pass_fds.begin(), o.pass_fds.end(), fd) != o.pass_fds.end())
      return "--pass-fd " + value + " given twice";
    o.pass_fds.push_back(fd);
    r.fds.push_back(static_cast<std::uint32_t>(n));
  } else if (name == "-n") {
    o.stdin_null = true;
  } else if (name == "--timeout") {
    char* end = nullptr;
    double secs = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(secs > 0) || secs > 1e9)
      return "--timeout wants a positive number of seconds, got '" + value +
             "'";
    r.timeout_ms = static_cast<std::uint64_t>(secs * 1000 + 0.5);
    if (r.timeout_ms == 0) r.timeout_ms = 1;
  } else if (name == "--identity") {
    r.connect.identities.push_back(value);
  } else if (name == "--ssh-config") {
    r.connect.ssh_config = value;
  } else if (name == "--known-hosts") {
    r.connect.known_hosts = value;
  } else if (name == "--accept-new-host-key") {
    r.connect.accept_new_host_key = true;
  } else if (name == "--record") {
    if (value.empty()) return "--record wants a FILE";
    r.record = value;
  } else if (name == "--broker") {
    if (value.empty()) return "--broker wants HOST[:PORT]";
    o.broker = value;
  } else if (name == "--token-file") {
    if (value.empty()) return "--token-file wants a FILE";
    o.token_file = value;
  } else if (name == "--log-level") {
    static const char* levels[] = {"trace", "debug", "info", "warn", "error"};
    if (std::find(std::begin(levels), std::end(levels), value) ==
        std::end(levels))
      return "unknown log level '" + value +
             "' (want trace, debug, info, warn or error)";
    o.log_level = value;
  }
  return "";
}

// Matches the option at args[i] against specs (long, --long=value, short,
// -Xvalue) and applies it when allowed(name); advances i past its value.
// 1 applied, 0 not an option allowed here, -1 a bad value (error says why).
template <class Allowed>
int take_option(const std::vector<std::string>& args, std::size_t& i,
                run_options& o, std::string& error, Allowed allowed) {
  const auto& a = args[i];
  const option_spec* spec = nullptr;
  std::string value;
  bool has_value = false;
  for (auto& s : specs) {
    if (s.long_name && a.rfind(s.long_name, 0) == 0) {
      auto len = std::string(s.long_name).size();
      if (a.size() == len) {
        spec = &s;
      } else if (a[len] == '=' && s.takes_value) {
        spec = &s;
        value = a.substr(len + 1);
        has_value = true;
      }
    } else if (s.short_name && a.rfind(s.short_name, 0) == 0) {
      if (a.size() == 2) {
        spec = &s;
      } else if (s.takes_value) {
        spec = &s;
        value = a.substr(2);
        has_value = true;
      }
    }
    if (spec) break;
  }
  if (!spec) return 0;
  std::string name = spec->long_name ? spec->long_name : spec->short_name;
  if (!allowed(name)) return 0;
  if (spec->takes_value && !has_value) {
    if (i + 1 >= args.size()) {
      error = "option '" + a + "' needs a value";
      return -1;
    }
    value = args[++i];
  }
  if (auto err = apply(o, name, value); !err.empty()) {
    error = err;
    return -1;
  }
  return 1;
}

}  // namespace

int parse_connection_option(const std::vector<std::string>& args,
                            std::size_t& i, run_options& o, std::string& error,
                            bool with_host) {
  return take_option(args, i, o, error, [with_host](const std::string& n) {
    return (with_host && n == "--host") || n == "--identity" ||
           n == "--ssh-config" || n == "--known-hosts" ||
           n == "--accept-new-host-key" || n == "--log-level" ||
           n == "--broker" || n == "--token-file";
  });
}

int parse_exec_option(const std::vector<std::string>& args, std::size_t& i,
                      run_options& o, std::string& error) {
  return take_option(args, i, o, error, [](const std::string& n) {
    return n == "--backend" || n == "--env" || n == "--secret-env" ||
           n == "--cwd" || n == "--timeout" || n == "--broker" ||
           n == "--token-file";
  });
}

std::optional<run_options> parse_run_options(
    const std::vector<std::string>& args, std::string& error) {
  run_options o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-')
      break;  // the command starts here, like ssh: options come first
    auto r =
        take_option(args, i, o, error, [](const std::string&) { return true; });
    if (r < 0) return std::nullopt;
    if (r == 0) {
      error = "unknown option '" + a + "'";
      return std::nullopt;
    }
  }
  if (i >= args.size()) {
    error = "no command given";
    return std::nullopt;
  }
  o.request.argv.assign(args.begin() + static_cast<long>(i), args.end());
  o.request.path = o.request.argv.front();
  return o;
}

}  // namespace remex::cli
