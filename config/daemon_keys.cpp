#include "config/daemon_keys.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>

#include <algorithm>
#include <caf/timestamp.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <sstream>

namespace remex::config {
namespace {

using std::chrono::milliseconds;

std::string format_duration(caf::timespan t) {
  auto n = t.count();
  if (n == 0) return "0s";
  std::string sign = n < 0 ? "-" : "";
  auto magnitude =
      n < 0 ? -static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  // The largest unit that shows the value exactly, as the user likely wrote.
  static constexpr std::pair<std::uint64_t, const char*> units[] = {
      {3'600'000'000'000, "h"}, {60'000'000'000, "min"}, {1'000'000'000, "s"},
      {1'000'000, "ms"},        {1'000, "us"},
  };
  for (auto [ns, unit] : units)
    if (magnitude % ns == 0)
      return sign + std::to_string(magnitude / ns) + unit;
  return sign + std::to_string(magnitude) + "ns";
}

// Each as_* checks one kind of value; "" means it was stored.

std::string as_text(const caf::config_value& v, std::string& out,
                    bool may_be_empty) {
  auto text = caf::get_if<std::string>(&v);
  if (!text) return "expected text in double quotes, got " + shown(v);
  if (text->empty() && !may_be_empty) return "must not be empty";
  out = *text;
  return {};
}

// A service's working directory is /, so a relative path in its file would
// be a surprise; on the command line it means what the shell user meant.
std::string to_path(const std::string& text, bool from_command_line,
                    std::string& out) {
  std::string path = text;
  if (path == "~" || path.rfind("~/", 0) == 0)
    path = home_directory() + path.substr(1);
  if (path.front() != '/') {
    if (!from_command_line)
      return "expected an absolute path or one starting with ~/, got " +
             in_quotes(text);
    std::error_code ec;
    auto absolute = std::filesystem::absolute(path, ec);
    if (ec)
      return "cannot make " + in_quotes(text) + " absolute: " + ec.message();
    path = absolute.string();
  }
  out = path;
  return {};
}

std::string as_path(const caf::config_value& v, bool from_command_line,
                    std::string& out, bool may_be_empty) {
  std::string text;
  if (auto problem = as_text(v, text, may_be_empty); !problem.empty())
    return problem;
  if (text.empty()) {
    out.clear();
    return {};
  }
  return to_path(text, from_command_line, out);
}

std::string as_list(const caf::config_value& v, bool paths,
                    bool from_command_line, std::vector<std::string>& out) {
  auto list = caf::get_if<caf::config_value::list>(&v);
  auto all_text = list && std::all_of(list->begin(), list->end(), [](auto& x) {
                    return caf::holds_alternative<std::string>(x);
                  });
  if (!all_text)
    return std::string{"expected a list of texts like [\"a\", \"b\"], got "} +
           shown(v);
  std::vector<std::string> result;
  for (auto& x : *list) {
    auto& text = caf::get<std::string>(x);
    if (text.empty()) return "the list must not hold empty texts";
    std::string element = text;
    if (paths)
      if (auto problem = to_path(text, from_command_line, element);
          !problem.empty())
        return problem;
    result.push_back(std::move(element));
  }
  out = std::move(result);
  return {};
}

// The agent's patterns: a glob, or an extended regex between slashes (more
// than "//"). The agent quietly matches nothing with a regex that does not
// compile; a config file can say so before anything runs.
std::string as_patterns(const caf::config_value& v,
                        std::vector<std::string>& out) {
  std::vector<std::string> patterns;
  if (auto problem = as_list(v, false, false, patterns); !problem.empty())
    return problem;
  for (auto& p : patterns) {
    if (p.size() <= 2 || p.front() != '/' || p.back() != '/') continue;
    regex_t re;
    auto expr = p.substr(1, p.size() - 2);
    if (int rc = regcomp(&re, expr.c_str(), REG_EXTENDED | REG_NOSUB)) {
      char why[128];
      regerror(rc, &re, why, sizeof(why));
      return in_quotes(p) + " is not a valid regular expression: " + why;
    }
    regfree(&re);
  }
  out = std::move(patterns);
  return {};
}

std::string as_count(const caf::config_value& v, const char* what,
                     std::size_t& out) {
  auto n = caf::get_if<caf::config_value::integer>(&v);
  if (!n || *n < 1)
    return std::string{"expected "} + what + " of at least 1, got " + shown(v);
  out = static_cast<std::size_t>(*n);
  return {};
}

std::string as_flag(const caf::config_value& v, bool& out) {
  auto b = caf::get_if<bool>(&v);
  if (!b) return "expected true or false, got " + shown(v);
  out = *b;
  return {};
}

std::string as_duration(const caf::config_value& v, bool may_be_zero,
                        milliseconds& out) {
  auto t = caf::get_if<caf::timespan>(&v);
  if (!t) return "expected a duration like 30s or 5min, got " + shown(v);
  if (t->count() < 0 || (t->count() == 0 && !may_be_zero))
    return std::string{"expected a duration "} +
           (may_be_zero ? "of 0s or more" : "above 0s") + ", got " + shown(v);
  // Round up: 500us must not become "no time at all".
  out = std::chrono::ceil<milliseconds>(*t);
  return {};
}

std::string as_log_level(const caf::config_value& v, std::string& out) {
  static constexpr std::string_view levels[] = {
      "trace", "debug", "info", "warn", "error", "critical", "off"};
  std::string text;
  if (auto problem = as_text(v, text, true); !problem.empty()) return problem;
  if (std::find(std::begin(levels), std::end(levels), text) == std::end(levels))
    return "expected one of trace, debug, info, warn, error, critical, off, "
           "got " +
           in_quotes(text);
  out = text;
  return {};
}

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6) ||
           (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  return false;
}

namespace {

// HOST:PORT or [V6]:PORT; what is wrong, or "".
std::string split_host_port(const std::string& text, std::string& host,
                            std::uint16_t& port) {
  auto bad = "expected HOST:PORT like 127.0.0.1:7411 or [::1]:7411, got " +
             in_quotes(text);
  std::string h, p;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || text.compare(close, 2, "]:") != 0)
      return bad;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
    in6_addr ignored;
    if (inet_pton(AF_INET6, h.c_str(), &ignored) != 1) return bad;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return bad;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string::npos)
      return "IPv6 addresses need brackets, like [::1]:7411, got " +
             in_quotes(text);
  }
  if (h.empty() || p.empty() || !std::all_of(p.begin(), p.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    return bad;
  auto number = p.size() > 5 ? 0 : std::stoul(p);
  if (number < 1 || number > 65535)
    return "expected a port from 1 to 65535, got " + in_quotes(text);
  host = h;
  port = static_cast<std::uint16_t>(number);
  return {};
}

// Off loopback is checked once all keys are read (daemon_config.cpp): it
// depends on the tls-* keys.
std::string as_listen(const caf::config_value& v, daemon_settings& s) {
  std::string text;
  if (auto problem = as_text(v, text, false); !problem.empty()) return problem;
  return split_host_port(text, s.listen_host, s.listen_port);
}

std::string as_peers(const caf::config_value& v, daemon_settings& s) {
  std::vector<std::string> peers;
  if (auto problem = as_list(v, false, false, peers); !problem.empty())
    return problem;
  for (auto& p : peers) {
    std::string host;
    std::uint16_t port;
    if (auto problem = split_host_port(p, host, port); !problem.empty())
      return problem;
  }
  s.peers = std::move(peers);
  return {};
}

using settings = daemon_settings;
using value = caf::config_value;

// The order is the example file's.
const daemon_key keys[] = {
    {"listen", flag_kind::text,
     [](settings& s, const value& v, bool) { return as_listen(v, s); }},
    {"name", flag_kind::text,
     [](settings& s, const value& v, bool) {
       return as_text(v, s.name, false);
     }},
    {"token-file", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.token_file, false);
     }},
    {"log-file", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.log_file, true);
     }},
    {"log-level", flag_kind::text,
     [](settings& s, const value& v, bool) {
       return as_log_level(v, s.log_level);
     }},
    {"record-dir", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.record_dir, true);
     }},
    {"secret-env", flag_kind::list,
     [](settings& s, const value& v, bool) {
       return as_list(v, false, false, s.secret_env);
     }},
    {"peer", flag_kind::list,
     [](settings& s, const value& v, bool) { return as_peers(v, s); }},
    {"serves", flag_kind::list,
     [](settings& s, const value& v, bool) {
       return as_list(v, false, false, s.serves);
     }},
    {"tls-cert", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.tls_cert, true);
     }},
    {"tls-key", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.tls_key, true);
     }},
    {"tls-ca", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.tls_ca, true);
     }},
    {"ssh.config-file", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.ssh.config_file, true);
     }},
    {"ssh.known-hosts", flag_kind::text,
     [](settings& s, const value& v, bool cli) {
       return as_path(v, cli, s.ssh.known_hosts, true);
     }},
    {"ssh.identities", flag_kind::list,
     [](settings& s, const value& v, bool cli) {
       return as_list(v, true, cli, s.ssh.identities);
     }},
    {"ssh.accept-new-host-key", flag_kind::toggle,
     [](settings& s, const value& v, bool) {
       return as_flag(v, s.ssh.accept_new_host_key);
     }},
    {"ssh.connect-timeout", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_duration(v, false, s.ssh.connect_timeout);
     }},
    {"ssh.keepalive", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_duration(v, false, s.ssh.keepalive);
     }},
    {"ssh.max-connections", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_count(v, "a whole number", s.ssh.max_connections);
     }},
    {"limits.max-executions", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_count(v, "a whole number", s.limits.max_executions);
     }},
    {"limits.credit-window", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_count(v, "a number of bytes", s.limits.credit_window);
     }},
    {"limits.idle-timeout", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_duration(v, false, s.limits.idle_timeout);
     }},
    {"limits.shutdown-grace", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_duration(v, true, s.limits.shutdown_grace);
     }},
    {"agent.env-keep", flag_kind::list,
     [](settings& s, const value& v, bool) {
       return as_patterns(v, s.agent.env_keep);
     }},
    {"agent.env-remove", flag_kind::list,
     [](settings& s, const value& v, bool) {
       return as_patterns(v, s.agent.env_remove);
     }},
    {"agent.persistent", flag_kind::toggle,
     [](settings& s, const value& v, bool) {
       return as_flag(v, s.agent.persistent);
     }},
    {"agent.max-per-agent", flag_kind::value,
     [](settings& s, const value& v, bool) {
       return as_count(v, "a whole number", s.agent.max_per_agent);
     }},
};

}  // namespace

const daemon_key* find_daemon_key(std::string_view name) {
  // The [remexd] group's keys may also stand before any group.
  bool in_remexd = name.rfind("remexd.", 0) == 0;
  if (in_remexd) name.remove_prefix(7);
  for (auto& key : keys)
    if (key.name == name &&
        (!in_remexd || key.name.find('.') == std::string_view::npos))
      return &key;
  return nullptr;
}

bool is_daemon_group(std::string_view name) {
  return name == "remexd" || name == "ssh" || name == "limits" ||
         name == "agent" || name == "groups";
}

std::string in_quotes(std::string_view text) {
  // Escaped, so that an error stays one line whatever the value holds.
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string shown(const caf::config_value& v) {
  if (auto text = caf::get_if<std::string>(&v)) return in_quotes(*text);
  if (auto t = caf::get_if<caf::timespan>(&v)) return format_duration(*t);
  if (auto real = caf::get_if<caf::config_value::real>(&v)) {
    std::ostringstream out;
    out << *real;
    return out.str();
  }
  if (caf::holds_alternative<caf::config_value::dictionary>(v))
    return "a group { ... }";
  auto text = caf::to_string(v);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace remex::config
